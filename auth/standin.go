package auth

import (
	"crypto/rand"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// standIn holds the hash compared when the user does not exist: a random
// password's, at the cost the stored hashes have, so that an unknown name
// takes as long to refuse as a known one with a wrong password.
type standIn struct {
	mu     sync.Mutex
	cost   int            // of the stored hashes, the last one seen
	hashes map[int][]byte // by cost; a missing one is being made
}

func newStandIn(cost int) (*standIn, error) {
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := randomHash(cost)
	if err != nil {
		return nil, fmt.Errorf("auth: stand-in hash at cost %d: %w", cost, err)
	}
	return &standIn{cost: cost, hashes: map[int][]byte{cost: h}}, nil
}

func randomHash(cost int) ([]byte, error) {
	var pw [18]byte
	rand.Read(pw[:])
	return bcrypt.GenerateFromPassword(pw[:], cost)
}

// hash is the stand-in at the cost last seen, or at the first cost while
// that one is being made.
func (s *standIn) hash() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hashes[s.cost]; ok && h != nil {
		return h
	}
	for _, h := range s.hashes {
		if h != nil {
			return h
		}
	}
	return nil
}

// seen notes the cost of a stored hash; a new cost gets its stand-in made
// in the background.
func (s *standIn) seen(hash []byte) {
	c, err := bcrypt.Cost(hash)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cost = c
	if _, ok := s.hashes[c]; ok {
		return
	}
	s.hashes[c] = nil
	go func() {
		h, err := randomHash(c)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			delete(s.hashes, c)
			return
		}
		s.hashes[c] = h
	}()
}
