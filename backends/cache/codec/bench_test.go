package codec

import (
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// typicalSession is what a logged-in Django session holds.
func typicalSession() py.Value {
	return dictOf(
		"_auth_user_id", py.Str("42"),
		"_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"),
		"_auth_user_hash", py.Str("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
		"django_language", py.Str("en"),
		"cart", py.NewList(dictOf("sku", py.Str("A-1"), "qty", py.Int(2)), dictOf("sku", py.Str("B-7"), "qty", py.Int(1))),
	)
}

func benchFormats() map[string]DjangoRedis {
	return map[string]DjangoRedis{
		"pickle":      {},
		"pickle-zlib": {Compressor: ZlibCompressor{}},
		"json":        {Serializer: JSONSerializer{}},
		"msgpack":     {Serializer: MsgpackSerializer{}},
	}
}

func BenchmarkEncodeDjangoRedisPickle(b *testing.B) {
	v := typicalSession()
	f := DjangoRedis{}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDjangoRedisPickle(b *testing.B) {
	f := DjangoRedis{}
	data, _, err := f.Encode(typicalSession())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Decode(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeDjangoRedis(b *testing.B) {
	v := typicalSession()
	for name, f := range benchFormats() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.Encode(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeDjangoRedis(b *testing.B) {
	for name, f := range benchFormats() {
		data, _, err := f.Encode(typicalSession())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Decode(data, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
