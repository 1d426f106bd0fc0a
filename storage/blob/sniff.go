package blob

import "bytes"

// SniffLen is how many leading bytes Sniff needs to decide.
const SniffLen = 64

// Containers lists what Sniff recognises, with each one's MIME type.
var containerTypes = map[string]string{
	"mp4":  "video/mp4",
	"mov":  "video/quicktime",
	"m4v":  "video/x-m4v",
	"mkv":  "video/x-matroska",
	"webm": "video/webm",
	"avi":  "video/x-msvideo",
	"flv":  "video/x-flv",
}

// ContentType is the MIME type of a container Sniff returned.
func ContentType(container string) string {
	if t, ok := containerTypes[container]; ok {
		return t
	}
	return "application/octet-stream"
}

// Sniff recognises a video container from a file's first bytes (at least
// SniffLen of them when the file is that long). It returns "" for anything
// else, whatever the file is called.
func Sniff(head []byte) string {
	switch {
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch brand := string(head[8:12]); brand {
		case "qt  ":
			return "mov"
		case "M4V ", "M4VH", "M4VP":
			return "m4v"
		default:
			return "mp4"
		}
	case len(head) >= 8 && isQuickTimeAtom(string(head[4:8])):
		// Old QuickTime files start with a movie atom instead of ftyp.
		return "mov"
	case len(head) >= 4 && bytes.Equal(head[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}):
		// EBML: the DocType element says which Matroska flavour it is.
		if bytes.Contains(head, []byte("webm")) {
			return "webm"
		}
		if bytes.Contains(head, []byte("matroska")) {
			return "mkv"
		}
		return ""
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return "avi"
	case len(head) >= 4 && string(head[:3]) == "FLV" && head[3] == 1:
		return "flv"
	}
	return ""
}

func isQuickTimeAtom(s string) bool {
	switch s {
	case "moov", "mdat", "wide", "free", "skip", "pnot":
		return true
	}
	return false
}
