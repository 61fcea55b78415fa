package kv

import "github.com/prometheus/client_golang/prometheus"

// cache is a Writer's memory of the keys it wrote most recently: a
// least-recently-used list bounded to max keys. Forgetting a key is always
// safe, since a miss reads the key from the bucket again; the bound only
// trades memory for reads. It is not safe for concurrent use, like the
// Writer that owns it.
type cache struct {
	max   int
	items map[string]*node
	// root is the sentinel of a ring: root.next is the most recently
	// used node, root.prev the least.
	root node
	m    cacheMetrics
}

type node struct {
	key        string
	val        entry
	prev, next *node
}

// cacheMetrics are where a cache reports its size and use.
type cacheMetrics struct {
	size                    prometheus.Gauge
	hits, misses, evictions prometheus.Counter
}

func newCache(max int, m cacheMetrics) *cache {
	c := &cache{max: max, items: make(map[string]*node, min(max, 1024)), m: m}
	c.root.next, c.root.prev = &c.root, &c.root
	c.m.size.Set(0)
	return c
}

// get returns key's entry and makes it the most recently used.
func (c *cache) get(key string) (entry, bool) {
	n, ok := c.items[key]
	if !ok {
		c.m.misses.Inc()
		return entry{}, false
	}
	c.m.hits.Inc()
	c.unlink(n)
	c.pushFront(n)
	return n.val, true
}

// put stores key's entry as the most recently used, evicting the least
// recently used key when the cache is full.
func (c *cache) put(key string, e entry) {
	if n, ok := c.items[key]; ok {
		n.val = e
		c.unlink(n)
		c.pushFront(n)
		return
	}
	if c.max <= 0 {
		return
	}
	var n *node
	if len(c.items) >= c.max {
		// Reuse the evicted node: a full cache then allocates nothing
		// but the map's own slot.
		n = c.root.prev
		c.unlink(n)
		delete(c.items, n.key)
		c.m.evictions.Inc()
	} else {
		n = new(node)
	}
	n.key, n.val = key, e
	c.items[key] = n
	c.pushFront(n)
	c.m.size.Set(float64(len(c.items)))
}

// remove forgets key.
func (c *cache) remove(key string) {
	if n, ok := c.items[key]; ok {
		c.unlink(n)
		delete(c.items, key)
		c.m.size.Set(float64(len(c.items)))
	}
}

// clear forgets every key.
func (c *cache) clear() {
	clear(c.items)
	c.root.next, c.root.prev = &c.root, &c.root
	c.m.size.Set(0)
}

func (c *cache) len() int { return len(c.items) }

func (c *cache) unlink(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (c *cache) pushFront(n *node) {
	n.prev, n.next = &c.root, c.root.next
	c.root.next.prev = n
	c.root.next = n
}
