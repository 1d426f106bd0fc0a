package mapcuts

import (
	"encoding/json"
	"time"

	"changemaker/storage"
)

// cutInput is the body of POST and PATCH /api/map/cuts[/:id].
type cutInput struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Category    *string         `json:"category"`
	Color       *string         `json:"color"`
	Opacity     *float64        `json:"opacity"`
	IsPublic    *bool           `json:"isPublic"`
	Geometry    json.RawMessage `json:"geometry"`
}

type cutView struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Category    string          `json:"category"`
	Color       string          `json:"color"`
	Opacity     float64         `json:"opacity"`
	IsPublic    bool            `json:"isPublic"`
	Geometry    json.RawMessage `json:"geometry"`
	CreatedBy   *int64          `json:"createdBy"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

func toCutView(c storage.Cut) cutView {
	return cutView{ID: c.ID, Name: c.Name, Description: c.Description, Category: c.Category, Color: c.Color,
		Opacity: roundOpacity(c.Opacity), IsPublic: c.IsPublic, Geometry: json.RawMessage(c.Geometry),
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// publicCutView is a published cut as anyone sees it: no author, no dates.
type publicCutView struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Category    string          `json:"category"`
	Color       string          `json:"color"`
	Opacity     float64         `json:"opacity"`
	Geometry    json.RawMessage `json:"geometry"`
}

func toPublicCutView(c storage.Cut) publicCutView {
	return publicCutView{ID: c.ID, Name: c.Name, Description: c.Description, Category: c.Category,
		Color: c.Color, Opacity: roundOpacity(c.Opacity), Geometry: json.RawMessage(c.Geometry)}
}

// roundOpacity undoes the float32 column's noise (0.3 comes back as
// 0.30000001192092896).
func roundOpacity(o float64) float64 {
	return float64(int(o*1000+0.5)) / 1000
}

type statsView struct {
	Locations      int            `json:"locations"`
	Units          int            `json:"units"`
	Visited        int            `json:"visited"`
	CompletionPct  float64        `json:"completionPercent"`
	BySupportLevel map[string]int `json:"bySupportLevel"`
}

type pointView struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}
