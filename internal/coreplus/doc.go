// Package coreplus is the client for the coreplus API: it signs every request
// with a fresh HS256 token bound to that request's URL and method, decodes the
// API's loosely typed JSON, and turns failures into typed errors (see Error).
// It knows the wire format and nothing about bookings.
package coreplus
