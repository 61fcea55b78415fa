package kv

// ForceBlindCreates pins whether w creates the keys its cache misses
// blind (true) or reads them first (false), instead of choosing by what
// its misses turned out to be: benchmarks price each side with it.
func ForceBlindCreates(w *Writer, blind bool) {
	w.fresh.force = -1
	if blind {
		w.fresh.force = 1
	}
}
