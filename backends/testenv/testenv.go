// Package testenv is what tests across the module share about the servers
// they talk to; see backends/internal/testenv.
package testenv

import (
	"testing"

	it "github.com/djsession/djsession/backends/internal/testenv"
)

// PostgresDB creates a fresh PostgreSQL database for the test.
func PostgresDB(t testing.TB) string { return it.PostgresDB(t) }

// RedisURL is the Redis server of the tests.
func RedisURL() string { return it.RedisURL() }
