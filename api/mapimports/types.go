package mapimports

import (
	"time"

	"changemaker/storage"
)

// importView is an import as the API shows it.
type importView struct {
	ID           int64             `json:"id"`
	Kind         string            `json:"kind"`
	Status       string            `json:"status"`
	Files        []string          `json:"files"`
	Filters      filtersView       `json:"filters"`
	Mapping      map[string]string `json:"mapping"`
	RowsRead     int64             `json:"rowsRead"`
	Inserted     int64             `json:"inserted"`
	Updated      int64             `json:"updated"`
	Skipped      int64             `json:"skipped"`
	Filtered     int64             `json:"filtered"`
	SkippedLines []skippedLineView `json:"skippedLines"`
	Error        string            `json:"error"`
	Parts        []partView        `json:"parts,omitempty"`
	CreatedBy    *int64            `json:"createdBy"`
	CreatedAt    time.Time         `json:"createdAt"`
	StartedAt    *time.Time        `json:"startedAt"`
	FinishedAt   *time.Time        `json:"finishedAt"`
}

type filtersView struct {
	Province     string      `json:"province,omitempty"`
	Municipality string      `json:"municipality,omitempty"`
	PostalPrefix string      `json:"postalPrefix,omitempty"`
	BBox         *[4]float64 `json:"bbox,omitempty"`
}

type skippedLineView struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

type partView struct {
	File     string `json:"file"`
	Status   string `json:"status"`
	RowsRead int64  `json:"rowsRead"`
	Inserted int64  `json:"inserted"`
	Updated  int64  `json:"updated"`
	Skipped  int64  `json:"skipped"`
	Filtered int64  `json:"filtered"`
	Error    string `json:"error"`
}

func mappingView(m storage.CSVMapping) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{
		"address": m.Address, "city": m.City, "province": m.Province, "postalCode": m.PostalCode,
		"latitude": m.Latitude, "longitude": m.Longitude, "unit": m.Unit, "residentName": m.ResidentName,
		"phone": m.Phone, "email": m.Email, "sourceId": m.SourceID,
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func toImportView(m storage.MapImport) importView {
	v := importView{ID: m.ID, Kind: m.Kind, Status: m.Status, Files: m.FileNames,
		Filters: filtersView(m.Filters), Mapping: mappingView(m.Mapping),
		RowsRead: m.RowsRead, Inserted: m.Inserted, Updated: m.Updated, Skipped: m.Skipped, Filtered: m.Filtered,
		SkippedLines: []skippedLineView{}, Error: m.Error, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt,
		StartedAt: m.StartedAt, FinishedAt: m.FinishedAt}
	if v.Files == nil {
		v.Files = []string{}
	}
	for _, l := range m.SkippedLines {
		v.SkippedLines = append(v.SkippedLines, skippedLineView{File: l.File, Line: l.Line, Reason: l.Reason})
	}
	for _, p := range m.Parts {
		v.Parts = append(v.Parts, partView{File: p.Name, Status: p.Status, RowsRead: p.RowsRead, Inserted: p.Inserted,
			Updated: p.Updated, Skipped: p.Skipped, Filtered: p.Filtered, Error: p.Error})
	}
	return v
}
