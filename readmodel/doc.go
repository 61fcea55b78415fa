// Package readmodel holds the view in the query process's memory: the
// answer to GET of a position, already encoded, for up to a bounded
// number of keys, kept current by watching every view bucket
// (sellable_p<i>, one KV watch each). The point query answers from it
// without a NATS round trip, a decode or an encode; everything else
// (a key it does not hold, a startup whose watches have not caught up,
// a read that asks for a newer minSeq than the held answer reflects)
// goes to the bucket as before.
//
// In the data flow it sits beside the query API, downstream of the
// calculators' KV writes: a write reaches it a watch delivery after it
// reaches the bucket (inventory_readmodel_behind_changes says how far
// each watch is). A GET without minSeq may so answer a few milliseconds
// older than the bucket, as a GET that raced the write would; a GET
// with minSeq never answers older than minSeq (api's handler checks the
// held sequence and otherwise waits on the bucket through query.Reader).
//
// A change is held as the stored bytes and decoded and encoded on the
// first read after it, so keys written often and read seldom cost the
// watch no more than a map update. Keys are held up to Config.MaxKeys:
// once full, the watches update only keys already held and a read that
// misses takes a random key's place (see Model.Answer for why a read's
// late bucket value never replaces a newer watched one).
package readmodel
