package testenv

import (
	"fmt"
	"reflect"
	"time"
)

// Fill sets every field of the struct ptr points to, recursively, to a
// non-zero value that depends only on the field's name and position:
// pointers are allocated, slices and maps get one element. Shape tests use it
// so that a field left out of a response type shows as a missing key, and so
// that the same call always yields the same JSON.
func Fill(ptr any) {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic("testenv.Fill needs a non-nil pointer")
	}
	n := 0
	fill(v.Elem(), "v", &n)
}

var timeType = reflect.TypeFor[time.Time]()

func fill(v reflect.Value, name string, n *int) {
	*n++
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(*n) * time.Hour)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), f.Name, n)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), name, n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(key, name+"Key", n)
		fill(val, name, n)
		v.SetMapIndex(key, val)
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	default:
		panic("testenv.Fill: cannot fill a " + v.Type().String())
	}
}
