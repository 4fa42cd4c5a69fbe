package store

import (
	"context"
	"fmt"
)

// SchemaCurrent reports an error unless every embedded migration has been
// applied: a process must not serve on a schema older than its code.
func (s *Store) SchemaCurrent(ctx context.Context) error {
	list, err := s.migrationList()
	if err != nil {
		return err
	}
	var applied []int
	if err := s.rd.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	have := map[int]bool{}
	for _, v := range applied {
		have[v] = true
	}
	for _, m := range list {
		if !have[m.Version] {
			return fmt.Errorf("store: migration %03d_%s not applied", m.Version, m.Name)
		}
	}
	return nil
}

// Ping says whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}
