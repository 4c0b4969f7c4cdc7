// Package metrics holds the Prometheus families no SMTP part owns: the
// age of each suppression list, read from the store on scrape, and the
// send ledger's writes, spool and retention deletions, which the ledger
// reports through Ledger. The relay and the upstream declare their own
// (relay.NewMetrics, upstream.NewMetrics).
package metrics

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/prometheus/client_golang/prometheus"
)

// ListSource is what the list collector reads: every list's description
// and current version (listdb.Store is one).
type ListSource interface {
	Lists(ctx context.Context) ([]listdb.Info, error)
}

// ListsOptions tune a list collector; zero fields take the defaults.
type ListsOptions struct {
	// CacheFor is how long one read of the lists serves scrapes, so that
	// several Prometheus servers scraping do not each cost a store read.
	// Default 15s.
	CacheFor time.Duration
	// Timeout bounds the store read. Default 2s.
	Timeout time.Duration
	Now     func() time.Time // default time.Now
}

var (
	listAgeDesc = prometheus.NewDesc("dncgate_list_age_seconds",
		"Time since the list's current version was imported; +Inf when it was never imported.",
		[]string{"list"}, nil)
	listMaxAgeDesc = prometheus.NewDesc("dncgate_list_max_age_seconds",
		"The list's max age: past it the recipients it governs are refused for now (or warned of); 0 when it never goes stale.",
		[]string{"list"}, nil)
)

// Lists is a prometheus.Collector of each list's age and max age. List
// names are the administrator's, few and declared, so they may be a label.
type Lists struct {
	src ListSource
	o   ListsOptions

	mu    sync.Mutex
	infos []listdb.Info
	read  time.Time
}

// NewLists returns the collector of src's lists.
func NewLists(src ListSource, o ListsOptions) *Lists {
	if o.CacheFor <= 0 {
		o.CacheFor = 15 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Lists{src: src, o: o}
}

// Describe implements prometheus.Collector.
func (l *Lists) Describe(ch chan<- *prometheus.Desc) {
	ch <- listAgeDesc
	ch <- listMaxAgeDesc
}

// Collect implements prometheus.Collector. When the store cannot be read
// the scrape reports the error and the other families still come.
func (l *Lists) Collect(ch chan<- prometheus.Metric) {
	now := l.o.Now()
	infos, err := l.lists(now)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(listAgeDesc, err)
		return
	}
	for _, in := range infos {
		ch <- prometheus.MustNewConstMetric(listAgeDesc, prometheus.GaugeValue, age(in, now), in.Meta.Name)
		ch <- prometheus.MustNewConstMetric(listMaxAgeDesc, prometheus.GaugeValue, in.Meta.MaxAge.Seconds(), in.Meta.Name)
	}
}

// lists returns the cached read while it is fresh.
func (l *Lists) lists(now time.Time) ([]listdb.Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.read.IsZero() && now.Sub(l.read) < l.o.CacheFor {
		return l.infos, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
	defer cancel()
	infos, err := l.src.Lists(ctx)
	if err != nil {
		return nil, err
	}
	l.infos, l.read = infos, now
	return infos, nil
}

// age is how old the current version is, as the check reckons it.
func age(in listdb.Info, now time.Time) float64 {
	if in.Current.ID == "" {
		return math.Inf(1)
	}
	return now.Sub(in.Current.ImportedAt).Seconds()
}
