package httpx

// MapSlice converts each item of a list for a response. A nil list stays
// nil, so the answer keeps the null or [] it had before the conversion.
func MapSlice[S, T any](in []S, f func(S) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
