package coreplus

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

const (
	pageSize = 100 // the documented maximum
	maxPages = 500 // 50,000 rows: far past any clinic, short of an endless loop
)

// listPage is one decoded page of a list answer: P's pointer, holding items
// of the wire type W.
type listPage[P, W any] interface {
	*P
	envelope
	paging() *wirePaging
	items() []W
}

// list fetches every page of a list, asking for the largest page coreplus
// allows, and returns every item of every page made a domain value.
// P is the page type, e.g. list[locationsPage](ctx, a, c, wireLocation.domain).
func list[P any, PP listPage[P, W], W, T any](ctx context.Context, a *API, c call, domain func(W) T) ([]T, error) {
	// One deadline for every page: a list is one call to the caller.
	ctx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	c.query = q
	var out []T
	for n := 1; ; n++ {
		q.Set("pageNumber", strconv.Itoa(n))
		q.Set("pageSize", strconv.Itoa(pageSize))
		var p P
		pp := PP(&p)
		if err := a.do(ctx, c, pp); err != nil {
			return nil, err
		}
		for _, w := range pp.items() {
			out = append(out, domain(w))
		}
		pg := pp.paging()
		if pg == nil || len(pp.items()) == 0 {
			return out, nil
		}
		size := int(pg.PageSize)
		if size <= 0 {
			size = pageSize
		}
		if n*size >= int(pg.TotalRows) {
			return out, nil
		}
		if n >= maxPages {
			return nil, &Error{Kind: ErrUnavailable, Op: c.op(), Reason: fmt.Sprintf("more than %d pages", maxPages)}
		}
	}
}
