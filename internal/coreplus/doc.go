// Package coreplus is the client for the coreplus API: it signs every request
// with a fresh HS256 token bound to that request's URL and method, decodes the
// API's loosely typed JSON, and turns failures into typed errors (see Error).
// It knows the wire format and nothing about bookings.
//
// It also keeps the portal a good consumer of an API it does not control:
// every attempt has a deadline, reads are retried with capped, jittered
// backoff (honouring Retry-After), writes are resent only after a 429 (which
// coreplus answers before storing anything), every request on the wire has
// passed a Limiter shared by all of a consumer's clients, which keeps under
// coreplus's 10 requests a second, and a circuit breaker answers at once
// while coreplus is down.
package coreplus
