package campaigns

import (
	"sync"
	"time"
)

// pageCache keeps the encoded public page of recently read campaigns for a
// short TTL. A campaign shared widely is read thousands of times a second,
// always the same bytes: with the cache, one API process reads its row about
// once per TTL instead of once per visitor. What a visitor sees is at most
// TTL old (counts, and edits made through another API process; edits made
// through this one drop the entry at once).
type pageCache struct {
	ttl time.Duration
	max int // entries; a full cache drops what expired, then everything

	mu    sync.RWMutex
	pages map[string]cachedPage
}

type cachedPage struct {
	body  []byte
	until time.Time
}

func newPageCache(ttl time.Duration, max int) *pageCache {
	if ttl <= 0 {
		return nil
	}
	return &pageCache{ttl: ttl, max: max, pages: map[string]cachedPage{}}
}

// get returns slug's page if it is fresh. A nil cache holds nothing.
func (p *pageCache) get(slug string, now time.Time) ([]byte, bool) {
	if p == nil {
		return nil, false
	}
	p.mu.RLock()
	pg, ok := p.pages[slug]
	p.mu.RUnlock()
	if !ok || !now.Before(pg.until) {
		return nil, false
	}
	return pg.body, true
}

// put stores slug's page until now+TTL. body must not change afterwards.
func (p *pageCache) put(slug string, body []byte, now time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.pages[slug]; !ok && len(p.pages) >= p.max {
		for k, pg := range p.pages {
			if !now.Before(pg.until) {
				delete(p.pages, k)
			}
		}
		if len(p.pages) >= p.max {
			clear(p.pages)
		}
	}
	p.pages[slug] = cachedPage{body: body, until: now.Add(p.ttl)}
}

// drop forgets the pages of slugs, after an edit.
func (p *pageCache) drop(slugs ...string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range slugs {
		delete(p.pages, s)
	}
}
