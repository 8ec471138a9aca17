package storetest_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// memStore is an in-memory django.Store used only to test the suite and
// django.Session: records keep a copy of the dict and the expire_date, and
// expire by the settings clock as the database backend does.
type memStore struct {
	s  *django.Settings
	mu sync.Mutex
	m  map[string]memRecord
}

type memRecord struct {
	data   *py.Dict
	expire time.Time
}

func (m *memStore) Load(_ context.Context, key string) (*py.Dict, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.m[key]
	if !ok || !r.expire.After(m.s.Now()) {
		return nil, false, nil
	}
	return r.data.Clone(), true, nil
}

func (m *memStore) Exists(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.m[key]
	return ok, nil
}

func (m *memStore) Save(_ context.Context, rec *django.Record, mustCreate bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.m[rec.SessionKey]
	if mustCreate && ok {
		return django.ErrCreateConflict
	}
	if !mustCreate && !ok {
		return django.ErrUpdateMissing
	}
	m.m[rec.SessionKey] = memRecord{data: rec.Data.Clone(), expire: rec.ExpireDate}
	return nil
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

func (m *memStore) ClearExpired(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.s.Now()
	for k, r := range m.m {
		if r.expire.Before(now) {
			delete(m.m, k)
		}
	}
	return nil
}

func (m *memStore) List(_ context.Context, fn func(django.Info) error) error {
	m.mu.Lock()
	keys := make([]string, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	sort.Strings(keys)
	for _, k := range keys {
		m.mu.Lock()
		r, ok := m.m[k]
		m.mu.Unlock()
		if !ok {
			continue
		}
		if err := fn(django.Info{SessionKey: k, ExpireDate: r.expire, Data: r.data.Clone()}); err != nil {
			return err
		}
	}
	return nil
}

func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, s *django.Settings) django.Store {
			return &memStore{s: s, m: map[string]memRecord{}}
		},
	})
}
