package maplocations

import (
	"bytes"
	"encoding/json"
	"time"

	"changemaker/storage"
)

// optional is a JSON field that may be absent (Set false), null (Set true,
// Value nil) or a value.
type optional[T any] struct {
	Set   bool
	Value *T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

// locationInput is the body of POST and PATCH /api/map/locations[/:id].
type locationInput struct {
	Address      *string           `json:"address"`
	City         *string           `json:"city"`
	Province     *string           `json:"province"`
	PostalCode   *string           `json:"postalCode"`
	Latitude     optional[float64] `json:"latitude"`
	Longitude    optional[float64] `json:"longitude"`
	BuildingType *string           `json:"buildingType"`
}

// locationView is a location as organizers see it.
type locationView struct {
	ID                int64      `json:"id"`
	Address           string     `json:"address"`
	City              string     `json:"city"`
	Province          string     `json:"province"`
	PostalCode        string     `json:"postalCode"`
	Latitude          *float64   `json:"latitude"`
	Longitude         *float64   `json:"longitude"`
	BuildingType      string     `json:"buildingType"`
	GeocodeProvider   string     `json:"geocodeProvider"`
	GeocodeConfidence *int       `json:"geocodeConfidence"`
	GeocodedAt        *time.Time `json:"geocodedAt"`
	Source            string     `json:"source"`
	SourceID          *string    `json:"sourceId"`
	UnitCount         int        `json:"unitCount"`
	CreatedBy         *int64     `json:"createdBy"`
	CreatedAt         time.Time  `json:"createdAt"`
	UpdatedAt         time.Time  `json:"updatedAt"`
}

// ToLocationView renders a location for organizers (also used by the cut
// routes).
func ToLocationView(l storage.Location) locationView {
	return locationView{ID: l.ID, Address: l.Address, City: l.City, Province: l.Province,
		PostalCode: l.PostalCode, Latitude: l.Lat, Longitude: l.Lng, BuildingType: l.BuildingType,
		GeocodeProvider: l.GeocodeProvider, GeocodeConfidence: l.GeocodeConfidence, GeocodedAt: l.GeocodedAt,
		Source: l.Source, SourceID: l.SourceID, UnitCount: l.UnitCount, CreatedBy: l.CreatedBy,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// unitInput is the body of POST and PATCH .../units[/:unitId].
type unitInput struct {
	UnitLabel    *string       `json:"unitLabel"`
	SourceID     *string       `json:"sourceId"`
	ResidentName *string       `json:"residentName"`
	Phone        *string       `json:"phone"`
	Email        *string       `json:"email"`
	SupportLevel optional[int] `json:"supportLevel"`
	LawnSign     *string       `json:"lawnSign"`
	Notes        *string       `json:"notes"`
}

type unitView struct {
	ID           int64     `json:"id"`
	LocationID   int64     `json:"locationId"`
	UnitLabel    string    `json:"unitLabel"`
	SourceID     *string   `json:"sourceId"`
	ResidentName string    `json:"residentName"`
	Phone        string    `json:"phone"`
	Email        string    `json:"email"`
	SupportLevel *int      `json:"supportLevel"`
	LawnSign     string    `json:"lawnSign"`
	Notes        string    `json:"notes"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

func toUnitView(u storage.Unit) unitView {
	return unitView{ID: u.ID, LocationID: u.LocationID, UnitLabel: u.UnitLabel, SourceID: u.SourceID,
		ResidentName: u.ResidentName, Phone: u.Phone, Email: u.Email, SupportLevel: u.SupportLevel,
		LawnSign: u.LawnSign, Notes: u.Notes, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type fieldChange struct {
	Old any `json:"old"`
	New any `json:"new"`
}

type historyView struct {
	ID       int64                  `json:"id"`
	UnitID   *int64                 `json:"unitId"`
	UserID   *int64                 `json:"userId"`
	UserName string                 `json:"userName"`
	Action   string                 `json:"action"`
	Fields   []string               `json:"fields"`
	Changes  map[string]fieldChange `json:"changes"`
	At       time.Time              `json:"createdAt"`
}

func toHistoryView(e storage.HistoryEntry) historyView {
	v := historyView{ID: e.ID, UnitID: e.UnitID, UserID: e.UserID, UserName: e.UserName, Action: e.Action,
		Fields: []string{}, Changes: map[string]fieldChange{}, At: e.CreatedAt}
	for k, c := range e.Changes {
		v.Changes[k] = fieldChange{Old: c.Old, New: c.New}
		v.Fields = append(v.Fields, k)
	}
	sortStrings(v.Fields)
	return v
}
