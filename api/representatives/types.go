package representatives

import (
	"time"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// postalCodeView is a cached Represent answer for one postal code.
type postalCodeView struct {
	Code      string    `json:"code"`
	Status    string    `json:"status"`
	City      string    `json:"city"`
	Province  string    `json:"province"`
	Latitude  *float64  `json:"latitude"`
	Longitude *float64  `json:"longitude"`
	FetchedAt time.Time `json:"fetchedAt"`
}

func toPostalCodeView(p storage.PostalCode) postalCodeView {
	return postalCodeView{Code: p.Code, Status: p.Status, City: p.City, Province: p.Province,
		Latitude: p.Latitude, Longitude: p.Longitude, FetchedAt: p.FetchedAt}
}

// cachedPostalCodeView is a cache entry in the admin list.
type cachedPostalCodeView struct {
	postalCodeView
	Representatives int `json:"representatives"`
}

func toCachedPostalCodeView(c storage.CachedPostalCode) cachedPostalCodeView {
	return cachedPostalCodeView{postalCodeView: toPostalCodeView(c.PostalCode), Representatives: c.Representatives}
}

// representativeView is an elected official as the lookup answers them
// (their email is public data); the cache's matching key stays inside.
type representativeView struct {
	ID                    int64        `json:"id"`
	PostalCode            string       `json:"postalCode"`
	Name                  string       `json:"name"`
	FirstName             string       `json:"firstName"`
	LastName              string       `json:"lastName"`
	ElectedOffice         string       `json:"electedOffice"`
	DistrictName          string       `json:"districtName"`
	PartyName             string       `json:"partyName"`
	Email                 string       `json:"email"`
	URL                   string       `json:"url"`
	PhotoURL              string       `json:"photoUrl"`
	RepresentativeSetName string       `json:"representativeSetName"`
	GovernmentLevel       string       `json:"governmentLevel"`
	Offices               []officeView `json:"offices"`
}

// officeView is one of a representative's offices; a blank field is left out.
type officeView struct {
	Type   string `json:"type,omitempty"`
	Postal string `json:"postal,omitempty"`
	Tel    string `json:"tel,omitempty"`
	Fax    string `json:"fax,omitempty"`
}

func toRepresentativeView(r storage.Representative) representativeView {
	return representativeView{ID: r.ID, PostalCode: r.PostalCode, Name: r.Name, FirstName: r.FirstName,
		LastName: r.LastName, ElectedOffice: r.ElectedOffice, DistrictName: r.DistrictName, PartyName: r.PartyName,
		Email: r.Email, URL: r.URL, PhotoURL: r.PhotoURL, RepresentativeSetName: r.RepresentativeSetName,
		GovernmentLevel: r.GovernmentLevel, Offices: httpx.MapSlice(r.Offices, toOfficeView)}
}

func toOfficeView(o storage.Office) officeView {
	return officeView{Type: o.Type, Postal: o.Postal, Tel: o.Tel, Fax: o.Fax}
}
