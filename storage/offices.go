package storage

import (
	"encoding/json"
	"fmt"
)

// officeJSON is how an Office is stored in representatives.offices (jsonb).
// It is the storage format, kept apart from Office so that neither the API
// nor Represent's upstream format can change what existing rows hold.
type officeJSON struct {
	Type   string `json:"type,omitempty"`
	Postal string `json:"postal,omitempty"`
	Tel    string `json:"tel,omitempty"`
	Fax    string `json:"fax,omitempty"`
}

// encodeOffices is the jsonb value of offices; nil is stored as [] (the
// column is NOT NULL).
func encodeOffices(offices []Office) ([]byte, error) {
	rows := make([]officeJSON, len(offices))
	for i, o := range offices {
		rows[i] = officeJSON(o)
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("encode offices: %w", err)
	}
	return b, nil
}

// decodeOffices reads a representatives.offices value.
func decodeOffices(b []byte) ([]Office, error) {
	var rows []officeJSON
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, err
	}
	if rows == nil {
		return nil, nil
	}
	offices := make([]Office, len(rows))
	for i, o := range rows {
		offices[i] = Office(o)
	}
	return offices, nil
}
