package formatter

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// MarshalMethods encodes v as a JSON object with one member per exported
// method of v that takes no arguments and returns exactly one value; the
// member name is the method name and the value is what the method returns.
// Methods named MarshalJSON or listed in exclude are skipped.
//
// It exists because Docker's "--format json" output is not the JSON of the
// underlying API object but of the display context: the same values, under
// the same names, that the template fields ({{.ID}}, {{.Names}}, ...) show.
// A context type gets that by implementing
//
//	func (c *containerContext) MarshalJSON() ([]byte, error) {
//		return formatter.MarshalMethods(c)
//	}
//
// Members come out sorted by name (encoding/json sorts map keys), matching
// Docker. Like Docker it uses json.Marshal, so '<', '>' and '&' inside
// values are written as \u003c, \u003e and \u0026 even though the "json"
// template function itself does not escape HTML ("0.0.0.0:80-\u003e80/tcp").
//
// v may be a pointer or a plain value; for a plain value the methods with
// pointer receivers are included too, so the result does not depend on how
// the caller happened to pass the context.
func MarshalMethods(v any, exclude ...string) ([]byte, error) {
	m, err := methodValues(v, exclude)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// methodValues calls every eligible method of v and collects the results.
func methodValues(v any, exclude []string) (map[string]any, error) {
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return nil, errors.New("formatter: cannot marshal methods of nil")
	case rv.Kind() == reflect.Pointer && rv.IsNil():
		return nil, fmt.Errorf("formatter: cannot marshal methods of nil %s", rv.Type())
	case rv.Kind() != reflect.Pointer:
		// Copy into a new pointer so pointer-receiver methods are visible.
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		rv = p
	}

	typ := rv.Type()
	m := make(map[string]any, typ.NumMethod())
	for i := range typ.NumMethod() {
		// reflect lists exported methods only, so no export check is needed.
		name := typ.Method(i).Name
		if name == "MarshalJSON" || slices.Contains(exclude, name) {
			continue
		}
		method := rv.Method(i)
		if mt := method.Type(); mt.NumIn() != 0 || mt.NumOut() != 1 {
			continue
		}
		m[name] = method.Call(nil)[0].Interface()
	}
	return m, nil
}
