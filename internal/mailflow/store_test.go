package mailflow

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// queueStore is an in-memory store.Store whose queue methods work; the
// mailbox methods are not needed by the queue and fail.
type queueStore struct {
	store.Store // nil: calling a mailbox method panics, which a test would show
	mu          sync.Mutex
	msgs        map[string]*store.Outbound
}

func newQueueStore(ms ...store.Outbound) *queueStore {
	s := &queueStore{msgs: map[string]*store.Outbound{}}
	for _, m := range ms {
		s.msgs[m.ID] = &m
	}
	return s
}

func (s *queueStore) Due(_ context.Context, now time.Time, limit int) ([]store.Outbound, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Outbound
	for _, m := range s.msgs {
		if !m.NextAttempt.After(now) {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b store.Outbound) int { return a.NextAttempt.Compare(b.NextAttempt) })
	return out[:min(limit, len(out))], nil
}

func (s *queueStore) Dequeue(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.msgs[id]; !ok {
		return store.ErrNotFound
	}
	delete(s.msgs, id)
	return nil
}

func (s *queueStore) Defer(_ context.Context, id string, next time.Time, lastErr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[id]
	if !ok {
		return store.ErrNotFound
	}
	m.Attempts++
	m.NextAttempt = next
	m.LastError = lastErr
	return nil
}

func (s *queueStore) get(id string) (store.Outbound, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[id]
	if !ok {
		return store.Outbound{}, false
	}
	return *m, true
}

func (s *queueStore) Enqueue(context.Context, store.Outbound) error {
	return errors.ErrUnsupported
}
