package djangotest

import (
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// TypedJSON is session data of the Python types only a pickle carries — an
// aware datetime, a tuple, a Decimal and bytes — in djs.py's $-tagged input
// form; TypedData returns the same data as Go values.
const TypedJSON = `{"when":{"$datetime":"2024-02-29T13:45:30.123456+00:00"},"pair":{"$tuple":[1,"two"]},"price":{"$decimal":"12.50"},"raw":{"$bytes":"AAH/"}}`

// TypedData returns TypedJSON's data as Go values, in the same order.
func TypedData() *py.Dict {
	d := py.NewDict(4)
	d.SetStr("when", py.FromTime(time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC), true, py.UTC))
	d.SetStr("pair", py.NewTuple(py.Int(1), py.Str("two")))
	price, err := py.ParseDecimal("12.50")
	if err != nil {
		panic("djangotest: " + err.Error()) // a constant: cannot fail
	}
	d.SetStr("price", price)
	d.SetStr("raw", py.Bytes([]byte{0, 1, 0xff}))
	return d
}
