package mapgeocode

import (
	"time"

	"changemaker/internal/geocoder"
	"changemaker/storage"
)

// JobType names what a job at /api/map/jobs/:id does.
const JobTypeGeocode = "GEOCODE"

// jobView is a geocode job as clients read it. done counts the locations
// placed, failed those no provider could place; the job is DONE when
// done + failed reaches total.
type jobView struct {
	ID         int64      `json:"id"`
	Type       string     `json:"type"`
	Status     string     `json:"status"`
	Total      int        `json:"total"`
	Done       int        `json:"done"`
	Failed     int        `json:"failed"`
	Error      string     `json:"error"`
	CreatedAt  time.Time  `json:"createdAt"`
	StartedAt  *time.Time `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
}

func toJobView(j storage.GeocodeJob) jobView {
	return jobView{ID: j.ID, Type: JobTypeGeocode, Status: j.Status, Total: j.Total, Done: j.Done, Failed: j.Failed,
		Error: j.Error, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, UpdatedAt: j.UpdatedAt}
}

// batchRequest is POST /api/map/locations/geocode: exactly one of
// locationIds and filter.
type batchRequest struct {
	LocationIDs []int64      `json:"locationIds,omitempty"`
	Filter      *batchFilter `json:"filter,omitempty"`
}

// batchFilter picks locations by what they hold. withoutPoint defaults to
// true: only locations not yet placed.
type batchFilter struct {
	WithoutPoint     *bool  `json:"withoutPoint,omitempty"`
	PostalCodePrefix string `json:"postalCodePrefix,omitempty"`
	Source           string `json:"source,omitempty"`
	City             string `json:"city,omitempty"`
}

// reverseView is where a reverse look-up landed.
type reverseView struct {
	Latitude   float64 `json:"latitude"`
	Longitude  float64 `json:"longitude"`
	Address    string  `json:"address"`
	Provider   string  `json:"provider"`
	Confidence int     `json:"confidence"`
}

func toReverseView(r geocoder.Result) reverseView {
	return reverseView{Latitude: r.Lat, Longitude: r.Lng, Address: r.Address, Provider: r.Provider, Confidence: r.Confidence}
}
