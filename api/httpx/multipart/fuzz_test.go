package multipart

import (
	"bytes"
	"fmt"
	"io"
	stdmultipart "mime/multipart"
	"net/textproto"
	"reflect"
	"testing"
	"testing/iotest"

	"changemaker/storage/blob"
)

// FuzzReader feeds the upload's multipart reader two kinds of input.
//
// Any bytes at all, under any boundary: it must end (a part, io.EOF or an
// error; never a panic or a loop) and read the same parts whether the body
// arrives at once or a byte at a time, in large chunks or small.
//
// Parts encoded by mime/multipart's writer, with the fuzzed bytes as a
// field's value and a file's contents: it must give them back exactly.
func FuzzReader(f *testing.F) {
	const b = "X-BOUNDARY"
	seed := func(parts ...sentPart) []byte { return encodeParts(b, parts) }
	f.Add(seed(sentPart{name: "title", body: []byte("hello")}, sentPart{name: "file", fileName: "v.mp4", body: []byte("\x00\x00\x00 ftypisom")}), b, []byte("x"))
	f.Add([]byte("--"+b+"--\r\n"), b, []byte(""))
	f.Add([]byte("preamble\r\n--"+b+"\r\n\r\nbody\r\n--"+b+"--"), b, []byte("\r\n--"+b))
	f.Add([]byte("--"+b+"   \t\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--"+b+"--"), b, []byte("--"+b+"-"))
	f.Add([]byte("--"+b+"\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"), b, []byte("\r"))
	f.Add([]byte("--"+b+"\nContent-Disposition: form-data; name=a\n\nv\n--"+b+"--\n"), b, []byte("\n--"))
	f.Add([]byte("--a\r\n\r\n\r\n--a\r\n\r\n\r\n--a--"), "a", []byte("\r\n--a"))
	f.Fuzz(func(t *testing.T, body []byte, boundary string, content []byte) {
		whole, wholeErr := readAll(bytes.NewReader(body), boundary, 4*blob.DirectAlign)
		bytewise, byteErr := readAll(iotest.OneByteReader(bytes.NewReader(body)), boundary, len(boundary)+6)
		if (wholeErr == nil) != (byteErr == nil) || !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("the same body read two ways differs:\nat once: %v %q\nbytewise: %v %q", wholeErr, whole, byteErr, bytewise)
		}

		if boundary == "" || len(boundary) > maxBoundary || bytes.Contains(content, []byte("\r\n--"+boundary)) ||
			stdmultipart.NewWriter(io.Discard).SetBoundary(boundary) != nil {
			return // not a body a conforming sender could write
		}
		sent := []sentPart{{name: "title", body: content}, {name: "file", fileName: "f.bin", body: content}}
		got, err := readAll(bytes.NewReader(encodeParts(boundary, sent)), boundary, 2*blob.DirectAlign)
		if err != nil {
			t.Fatalf("boundary %q, content %q: %v", boundary, content, err)
		}
		for i := range got {
			if got[i].body == nil {
				got[i].body = []byte{}
			}
		}
		for i := range sent {
			if sent[i].body == nil {
				sent[i].body = []byte{}
			}
		}
		if !reflect.DeepEqual(got, sent) {
			t.Fatalf("boundary %q: sent %q, read %q", boundary, sent, got)
		}
	})
}

// encodeParts is encode without a *testing.T, for seeds.
func encodeParts(boundary string, parts []sentPart) []byte {
	var body bytes.Buffer
	mw := stdmultipart.NewWriter(&body)
	if err := mw.SetBoundary(boundary); err != nil {
		panic(err)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.fileName != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.fileName))
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			panic(err)
		}
		w.Write(p.body)
	}
	mw.Close()
	return body.Bytes()
}
