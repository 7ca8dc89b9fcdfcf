package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RequestTTL is how long a booking request, and the personal details in
// it, is kept.
const RequestTTL = 30 * 24 * time.Hour

// Request is a booking request a patient left while coreplus could not be
// reached: who to call back and what they would like.
type Request struct {
	// ID is unguessable, like a draft's.
	ID                string
	Clinic            string
	LocationID        string
	AppointmentTypeID string
	PractitionerID    string
	// Days are "mon".."sat" and Times "morning", "afternoon", "evening";
	// empty means any.
	Days    []string
	Times   []string
	Details RequestDetails
	Status  string
	// CreatedAt and ExpiresAt are UTC, to the second. A zero ExpiresAt
	// means CreatedAt plus RequestTTL.
	CreatedAt time.Time
	ExpiresAt time.Time
	// ContactedBy and ContactedAt say who marked the request contacted and
	// when; "" and zero while it is new.
	ContactedBy string
	ContactedAt time.Time
}

// RequestDetails is what the patient typed, kept as one JSON document.
type RequestDetails struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Mobile    string `json:"mobile,omitempty"`
	Note      string `json:"note,omitempty"`
}

// CreateRequest stores r and queues the messages due with it (the
// clinic's note), in one transaction. ID, Clinic and Status are required.
func (s *Store) CreateRequest(ctx context.Context, r Request, queue ...OutboxMessage) error {
	if r.ID == "" || r.Clinic == "" || r.Status == "" {
		return errors.New("create request: id, clinic and status are required")
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.CreatedAt.Add(RequestTTL)
	}
	details, err := json.Marshal(r.Details)
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO booking_requests (id, clinic, location_id, appointment_type_id, practitioner_id,
				days, times, details, status, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.ID, r.Clinic, r.LocationID, r.AppointmentTypeID, r.PractitionerID,
			strings.Join(r.Days, ","), strings.Join(r.Times, ","), string(details), r.Status,
			unix(r.CreatedAt), unix(r.ExpiresAt)); err != nil {
			return err
		}
		for _, m := range queue {
			if err := s.insertOutbox(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	return nil
}

// ListRequests returns a clinic's requests that have not expired at now,
// newest first.
func (s *Store) ListRequests(ctx context.Context, clinic string, now time.Time) ([]Request, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, clinic, location_id, appointment_type_id, practitioner_id,
			days, times, details, status, created_at, expires_at, contacted_by, contacted_at
		FROM booking_requests WHERE clinic = $1 AND expires_at > $2
		ORDER BY created_at DESC, id`, clinic, unix(now))
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var (
			r                Request
			days, times, det string
			created, expires int64
			contactedAt      int64
		)
		if err := rows.Scan(&r.ID, &r.Clinic, &r.LocationID, &r.AppointmentTypeID, &r.PractitionerID,
			&days, &times, &det, &r.Status, &created, &expires, &r.ContactedBy, &contactedAt); err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		if err := json.Unmarshal([]byte(det), &r.Details); err != nil {
			return nil, fmt.Errorf("list requests: request %s details: %w", shortID(r.ID), err)
		}
		r.Days, r.Times = splitList(days), splitList(times)
		r.CreatedAt, r.ExpiresAt = fromUnix(created), fromUnix(expires)
		if contactedAt != 0 {
			r.ContactedAt = fromUnix(contactedAt)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// SetRequestStatus moves a clinic's request from one status to another only
// if it is still in from, so that of two staff marking the same request
// one hears that it already was. It reports whether it changed the request;
// false with a nil error means there is no such request for the clinic or
// it was not in from. by and at record who made the change and when (what
// the Requests page shows as "contacted by ... at ...").
func (s *Store) SetRequestStatus(ctx context.Context, clinic, id, from, to, by string, at time.Time) (bool, error) {
	n, err := s.execCount(ctx,
		`UPDATE booking_requests SET status = $4, contacted_by = $5, contacted_at = $6
		WHERE clinic = $1 AND id = $2 AND status = $3`,
		clinic, id, from, to, by, unixOrZero(at))
	if err != nil {
		return false, fmt.Errorf("set request %s status %s to %s: %w", shortID(id), from, to, err)
	}
	return n == 1, nil
}

// DeleteExpiredRequests deletes requests, and the personal details in them,
// that expired at or before now. It returns how many it deleted.
func (s *Store) DeleteExpiredRequests(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.execCount(ctx, `DELETE FROM booking_requests WHERE expires_at <= $1`, unix(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired requests: %w", err)
	}
	return n, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
