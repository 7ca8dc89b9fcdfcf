// Package sandbox is a stateful stand-in for the coreplus API, faithful
// enough to build and test a client against. It serves /API/Core/v2.1/ and
// /API/Core/v2/, checks every request's JwToken the way coreplus does, keeps
// a real diary for a demo clinic (two locations in different time zones, six
// rostered practitioners, four appointment types, six clients and eight
// weeks of seeded bookings), enforces the 10 requests/second limit, and can
// inject latency, 503s and dropped connections.
//
// It implements the wire format on its own, from the API digest, and does
// not import the client package, so it tests the client honestly.
//
// # Strict choices
//
// Where the coreplus documentation leaves a behaviour unknown, the sandbox
// picks the strictest plausible one, so a client that works here should
// work against coreplus:
//
//   - Auth failures are HTTP 401 with {"result":[{"severity":2,"reason":"Invalid token: ..."}]},
//     and each cause has its own reason text.
//   - The Authorization header must be exactly "JwToken", one space, the
//     token. Only HS256 is accepted; "none" and every other alg are refused.
//     The signing key is the consumer secret's raw bytes.
//   - All eight claims are required and must be non-empty: iss, aud, nbf,
//     exp, consumerId, accessToken, url, httpMethod. iss and aud must be
//     strings but their values are not checked (public clients vary).
//     nbf and exp must be integer Unix seconds (no fractions, no strings).
//   - Clock skew of 30 s is allowed on nbf and exp; exp - nbf must be 1 to
//     60 seconds.
//   - The url claim must equal, byte for byte, the absolute URL requested:
//     "http" (or "https" under TLS) + "://" + Host + path and query exactly
//     as sent. Path case, trailing slash and query encoding all matter.
//   - httpMethod must equal the request method exactly (upper case).
//   - Content-Type: application/json is required on every request, GET
//     included; a charset parameter is allowed.
//   - The rate limit counts every authenticated request, refused ones too,
//     in a sliding one-second window per consumer; the 429 carries
//     Retry-After: 1 and a result body. Unauthenticated requests are not
//     counted against a consumer.
//   - Every list (locations, practitioners and appointment types included)
//     returns paging and statusMessages and honours pageNumber/pageSize:
//     pageSize defaults to 50, and above 100 is a 400.
//   - AvailabilitySlot and the appointment list need startDate, endDate and
//     timezoneId; a range may cover at most 31 days (inclusive), a longer
//     one or endDate before startDate is a 400. Unknown timezoneIds are a
//     400; GUIDs match in any case.
//   - AvailabilitySlot: an unknown practitionerId, locationId or
//     appointmentTypeId is a 400, not an empty list, so a comma-joined id
//     list fails loudly; repeat the parameter for several ids.
//     appointmentTypeId only cuts free time into chunks of its length from
//     each free block's start, dropping the remainder; it does not limit
//     practitioners or locations. Free time starting "now" begins at the
//     next 5-minute boundary. Slot times are rendered in the requested zone
//     with no space before the offset.
//   - Appointment times are rendered with a space before the offset
//     ("2025-03-04T09:00:00 +10:00"): in the location's zone for get-one and
//     for create/update answers, in the requested zone for the list.
//   - A booking or reschedule that is in the past, not wholly inside one
//     roster block of that practitioner at that location (lunch breaks split
//     days), or overlapping any Booked appointment of the practitioner at
//     any location, is answered HTTP 200 with
//     {"result":[{"severity":2,"reason":"The selected time is not available for booking an appointment"}]}:
//     clients must branch on the body, not the status.
//   - Malformed bookings are a 400 naming the field: missing or offset-less
//     times, end not after start, unknown practitioner, location, client or
//     appointment type, zero or several clients, subject or notes over 300.
//     When appointmentTypeId is given, endDateTime - startDateTime must equal
//     the type's length. The offset need not be the location's: the instant
//     is what is booked, so a wrong hard-coded offset books the wrong time.
//   - Times are accepted as 2025-03-04T14:30:00+11:00, with a space before
//     the offset, or in the doc's "2025-03-04 14:30 +11:00" form; a time
//     with no offset is a 400.
//   - Booleans in bodies may be true/false or "true"/"false" (any case);
//     anything else is a 400. String fields sent as numbers are a 400.
//     Member names match case-insensitively; unknown members are ignored.
//   - POST Appointment/ with an appointmentId and "deleted": true (or
//     "true") in the body is the 2016 cancel variant and cancels exactly as
//     below; an appointmentId without it is a 400: change through POST
//     Appointment/{id}.
//   - POST Appointment/{id} with "deleted": true (or "true") cancels: the
//     record stays, with status "Cancelled", its time is freed, and it still
//     appears in the list and get-one. Cancelling twice is harmless. Other
//     bodies reschedule (startDateTime and endDateTime together, practitioner
//     nested or as top-level practitionerId, locationId) under the booking
//     rules, or change subject, notes, notifyPractitioner; a cancelled
//     appointment cannot be changed (400).
//   - The appointment list ignores an undocumented clientId filter and
//     returns every appointment that starts in the range, cancelled ones
//     included; filter on your side.
//   - Client search: name matches a case-insensitive fragment of the first
//     OR last name (not "First Last"); dateOfBirth matches exactly
//     (YYYY-MM-DD, else 400); mobile compares digits only with +61 4.. equal
//     to 04..; filters combine with AND. Unknown parameters (email, q) are
//     ignored, so an unsupported filter returns every client.
//   - Client list items carry no phone, email or address; GET Client/{id}
//     returns the full record at the top level, with no wrapper. Unknown
//     ids are a 404 with a result body.
//   - Creating a client reports every problem at once as separate reasons.
//     firstName and lastName (1-50 characters after trimming) and
//     dateOfBirth (a real YYYY-MM-DD date, not in the future, not before
//     1900) are required. Lengths: email, phones, ExternalId, middleName and
//     preferredName 50, notes1 300, culture 20, medicareCardNumber 20,
//     dvaCardNumber 20, medicareCardIRN 1. title, gender, pronouns (or
//     pronoun) and Status must be a documented value, matched exactly. email
//     must be a bare address. The address uses "city" (as documented for
//     create) and reads back as "suburb". Clients are never deduplicated.
//   - Unknown paths are a 404 and known paths with the wrong method a 405,
//     both with result bodies, but only after authentication: every request
//     is authenticated first.
//   - Faults apply after authentication and rate limiting, latency first,
//     then a 503 (plain text), then a dropped connection.
//     StoreThenDropRate applies only to successful POST Appointment/
//     bookings. All randomness, demo bookings and new GUIDs come from Seed.
package sandbox
