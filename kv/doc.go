// Package kv holds the sellable view: one JetStream KV bucket per
// partition, sellable_p<i>, each written by the one calculator that owns
// the partition and read by any query instance.
//
// Values are JSON sellable.Position documents keyed "<loc>.<sku>" (encoded
// by streams), so `nats kv get sellable_p3 STL.123123` reads them. Writes
// are compare-and-set on the entry revision: a stale owner can never
// overwrite a newer value. Callers never see revisions.
package kv
