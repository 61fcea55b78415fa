// Package kv holds the sellable view: one JetStream KV bucket per
// partition, sellable_p<i>, each written by the one calculator that owns
// the partition and read by any query instance. The buckets are the one
// store of each change (issue 15.2): each republishes every value it
// stores on inventory.sellable.<loc>.<sku> (BucketConfig's RePublish, which
// Ensure adds to an older bucket), and its stream KV_sellable_p<i>
// (StreamName, KeyOfSubject, IsMarker) is the change log the projector
// and the feed consume.
//
// Values are kv's own versioned JSON documents (value.go: {"v":1,
// "locationId":…,"count":…,…}), converted to and from sellable.Position
// at this package's edge, keyed "<loc>.<sku>" (streams.KeyToken), so `nats
// kv get sellable_p3 STL.123123` reads them. A value written by an older
// version, even one from before values had a version, still reads;
// DecodeValue is how anyone else reads one. BySKU reads one SKU at
// every location with a key filter "*.<sku>" over every bucket (a SKU's
// locations are spread over all partitions); no index is kept. In the data flow the
// calculator writes here and the query API and the load tool read. Writes
// are compare-and-set on the entry revision: a stale owner can never
// overwrite a newer value. Callers never see revisions. A key the writer
// has not cached is read first, or, while such keys are mostly new, written
// blind as a create (expected revision 0) and read only if that conflicts
// (writer.go, freshness). PublishAsync waits for room in a connection's
// window of async publishes instead of failing when it is full.
//
// Ensure is how every bucket of the project (the view, the calculators'
// leases and offsets, the registry) is opened: created when missing, used
// as it is otherwise, with a warning for each setting that differs; Plan
// and Apply change them on purpose (`inventory admin`).
package kv
