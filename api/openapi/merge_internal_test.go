package openapi

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMergeAddsFragmentsAndRefusesDuplicates(t *testing.T) {
	base := []byte("openapi: 3.1.0\npaths:\n  /a: {}\ncomponents:\n  schemas:\n    A: {type: string}\n")
	ok := fstest.MapFS{"d/x.yaml": {Data: []byte("paths:\n  /b: {}\ncomponents:\n  schemas:\n    B: {type: integer}\n  parameters:\n    P: {name: p, in: query}\n")}}
	out, err := merge(base, ok, "d")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]any
		Components map[string]map[string]any
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) != 2 || doc.Components["schemas"]["B"] == nil || doc.Components["parameters"]["P"] == nil {
		t.Fatalf("merged = %s", out)
	}
	for name, frag := range map[string]string{
		"duplicate path":   "paths:\n  /a: {}\n",
		"duplicate schema": "components:\n  schemas:\n    A: {type: string}\n",
		"other key":        "info: {title: x}\n",
	} {
		_, err := merge(base, fstest.MapFS{"d/y.yaml": {Data: []byte(frag)}}, "d")
		if err == nil || !strings.Contains(err.Error(), "d/y.yaml") {
			t.Errorf("%s: err = %v, want an error naming the fragment", name, err)
		}
	}
}
