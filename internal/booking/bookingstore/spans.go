package bookingstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/store"
)

var _ booking.SharedSpans = Adapter{}

// spanBlock is one free block as the store keeps it, in a span's JSON.
// Times keep their offset and any fraction, so a block reads back equal.
type spanBlock struct {
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	PractitionerID string    `json:"practitioner"`
	LocationID     string    `json:"location,omitempty"`
}

func (a Adapter) GetSpan(ctx context.Context, k booking.SpanKey) ([]coreplus.Slot, time.Time, bool, error) {
	sp, err := a.S.GetSpan(ctx, storeSpanKey(k))
	if errors.Is(err, store.ErrNotFound) || (err == nil && sp.FetchedAt.IsZero()) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, err
	}
	var list []spanBlock
	if err := json.Unmarshal([]byte(sp.Blocks), &list); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("read span %s %s: %w", k.LocationID, k.Start, err)
	}
	blocks := make([]coreplus.Slot, len(list))
	for i, b := range list {
		blocks[i] = coreplus.Slot{Start: b.Start, End: b.End, PractitionerID: b.PractitionerID, LocationID: b.LocationID}
	}
	return blocks, sp.FetchedAt, true, nil
}

func (a Adapter) LeaseSpan(ctx context.Context, k booking.SpanKey, now, until time.Time) (bool, error) {
	return a.S.LeaseSpan(ctx, storeSpanKey(k), now, until)
}

func (a Adapter) PutSpan(ctx context.Context, k booking.SpanKey, blocks []coreplus.Slot, fetchedAt time.Time) error {
	list := make([]spanBlock, len(blocks))
	for i, b := range blocks {
		list[i] = spanBlock{Start: b.Start, End: b.End, PractitionerID: b.PractitionerID, LocationID: b.LocationID}
	}
	text, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("put span %s %s: %w", k.LocationID, k.Start, err)
	}
	return a.S.PutSpan(ctx, storeSpanKey(k), string(text), fetchedAt)
}

func storeSpanKey(k booking.SpanKey) store.SpanKey {
	return store.SpanKey{Clinic: k.Clinic, LocationID: k.LocationID, TimezoneID: k.TimezoneID, Start: k.Start}
}
