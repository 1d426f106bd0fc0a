// Package shapetest pins the JSON clients receive: a response type is filled
// with known values, marshalled and compared byte for byte with the answer
// clients have been getting. It imports no API package, so a module's own
// tests can use it.
package shapetest

import (
	"encoding/json"
	"hash/fnv"
	"reflect"
	"testing"
	"time"
)

// Fill sets every field of the struct ptr points to, recursively, to a
// non-zero value made from the field's name alone (so that reordering a
// struct changes nothing): pointers are allocated, slices and maps get one
// element. Shape tests use it so that a field a response type leaves out
// shows as a missing key.
func Fill(ptr any) {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic("shapetest.Fill needs a non-nil pointer")
	}
	fill(v.Elem(), "v")
}

func fill(v reflect.Value, name string) {
	h := fnv.New32a()
	h.Write([]byte(name))
	n := int64(h.Sum32() % 1000)
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(n) * time.Hour)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), f.Name)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), name)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(key, name+"Key")
		fill(val, name)
		v.SetMapIndex(key, val)
	case reflect.String:
		v.SetString(name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	default:
		panic("shapetest.Fill: cannot fill a " + v.Type().String())
	}
}

// Check fails t unless v marshals to exactly want.
func Check(t testing.TB, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	if string(got) != want {
		t.Errorf("%T marshals to\n%s\nwant\n%s", v, got, want)
	}
}
