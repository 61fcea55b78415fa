// Package sellable is the domain: what identifies a position (Key, and the
// rules a location or SKU must follow), the kinds of inventory event and
// the rules a count must follow (Event.Validate), and the fold of events
// into a position (Position.Apply): OnHand, Reserved and the sellable
// Count = OnHand - Reserved. An adjustment moves OnHand; the seed's
// reservation adds to Reserved for good; a cart reservation's Hold adds
// to Reserved until its Release or Expiry takes it back or its
// Fulfilment takes it from both Reserved and OnHand.
//
// Cart reservations (reservation.go) are all-or-nothing holds of several
// keys with a lifecycle: CartReservation, its ReservationState, the Steps
// that move it (Step.Next says which are allowed and which are repeats),
// and the errors a decision answers (InsufficientStockError,
// TransitionError). Where their state is kept and how they are decided is
// command's business. It knows nothing of NATS, HTTP or databases, and its types
// carry no wire format: how a key is spelled on a subject is streams'
// business, how an event or a position is encoded is wire's, kv's and
// api's.
//
// Data flow: api and command turn requests into Events; the calculator
// folds them into Positions; kv, wire and api each convert a Position into
// their own stored or served type.
package sellable
