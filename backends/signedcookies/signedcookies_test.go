package signedcookies

import (
	"errors"
	"testing"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, s *django.Settings) django.Store {
			st, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		NoList:         true,
		NoClearExpired: true,
		MaxAgeExpiry:   true,
		KeyIsData:      true,
	})
}

func TestListSaysWhy(t *testing.T) {
	st, _ := New(django.DefaultSettings("k"))
	err := st.List(t.Context(), nil)
	if !errors.Is(err, django.ErrNotSupported) || !errors.Is(err, ErrNoServerState) {
		t.Fatalf("List: %v", err)
	}
}
