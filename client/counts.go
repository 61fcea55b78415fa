package client

import "strconv"

// AdjustmentCountOf is an adjustment's count n as a JSON integer. The document's
// oneOf (integer or string) makes the generated type a union whose setters
// return an error only when json.Marshal fails, which an int64 cannot.
func AdjustmentCountOf(n int64) AdjustmentCount {
	return AdjustmentCount{union: strconv.AppendInt(nil, n, 10)}
}

// AdjustmentCountString is n as the string form the seed also accepts ("100").
func AdjustmentCountString(n int64) AdjustmentCount {
	return AdjustmentCount{union: strconv.AppendQuote(nil, strconv.FormatInt(n, 10))}
}

// ReservationCountOf is a reservation's count n as a JSON integer.
func ReservationCountOf(n int64) ReservationCount {
	return ReservationCount{union: strconv.AppendInt(nil, n, 10)}
}

// ReservationCountString is n as the string form the seed also accepts ("10").
func ReservationCountString(n int64) ReservationCount {
	return ReservationCount{union: strconv.AppendQuote(nil, strconv.FormatInt(n, 10))}
}

// AdjustmentItem is one adjustment of a batch.
func AdjustmentItem(location, sku string, n int64) BatchCommand {
	var c BatchCommand
	_ = c.FromBatchCommand0(BatchCommand0{Type: BatchCommand0TypeAdjustment, LocationId: location, Sku: sku, Count: AdjustmentCountOf(n)})
	return c
}

// ReservationItem is one reservation of a batch.
func ReservationItem(location, sku string, n int64) BatchCommand {
	var c BatchCommand
	_ = c.FromBatchCommand1(BatchCommand1{Type: BatchCommand1TypeReservation, LocationId: location, Sku: sku, Count: ReservationCountOf(n)})
	return c
}
