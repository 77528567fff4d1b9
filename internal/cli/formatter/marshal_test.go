package formatter

import (
	"strings"
	"testing"
)

type valueCtx struct{ n int }

func (v valueCtx) Number() int                { return v.n }
func (v valueCtx) Pair() (int, error)         { return v.n, nil }
func (v valueCtx) WithArg(int) int            { return v.n }
func (v valueCtx) NoResult()                  {}
func (v *valueCtx) Pointer() string           { return "ptr" }
func (v *valueCtx) HTML() string              { return "a<b>&c" }
func (v *valueCtx) Nested() map[string]string { return map[string]string{"z": "1", "a": "2"} }

func TestMarshalMethods(t *testing.T) {
	const full = `{"HTML":"a\u003cb\u003e\u0026c","Nested":{"a":"2","z":"1"},"Number":7,"Pointer":"ptr"}`
	tests := []struct {
		name    string
		v       any
		exclude []string
		want    string
	}{
		{"pointer", &valueCtx{n: 7}, nil, full},
		{"value includes pointer methods", valueCtx{n: 7}, nil, full},
		{"exclude", &valueCtx{n: 7}, []string{"Nested", "HTML"}, `{"Number":7,"Pointer":"ptr"}`},
		{"no methods", struct{ A int }{1}, nil, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MarshalMethods(tt.v, tt.exclude...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMarshalMethodsNil(t *testing.T) {
	for _, v := range []any{nil, (*valueCtx)(nil)} {
		if _, err := MarshalMethods(v); err == nil || !strings.Contains(err.Error(), "nil") {
			t.Errorf("MarshalMethods(%#v) error = %v, want nil error", v, err)
		}
	}
}
