package address

import (
	"testing"
)

func TestParseSameDoorManyWays(t *testing.T) {
	t.Parallel()
	groups := []struct {
		name  string
		want  Key
		typed []string
	}{
		{
			name: "a unit on a street with a direction",
			want: Key{Civic: "123", Street: "MAIN", Type: "ST", Direction: "N", Unit: "101"},
			typed: []string{
				"123 Main St N #101",
				"123 Main Street North, Unit 101",
				"101-123 Main St N",
				"#101-123 Main St. N.",
				"Unit 101, 123 Main Street North",
				"Apt 101, 123 MAIN ST NORTH",
				"Suite 101 123 Main St N",
				"123 main st n apt. 101",
				"123 Main St N, #101, Ottawa, ON K1A 0B1",
				"  123   Main  St  N  Unit 101 ",
				"Apartment 101, 123 Main St North, Ottawa, Ontario",
				"123 Main St N 101",
				"0123 Main St N #0101",
			},
		},
		{
			name: "a French address",
			want: Key{Civic: "1234", Street: "SAINT DENIS", Type: "RUE", Unit: "4"},
			typed: []string{
				"1234, rue Saint-Denis, app. 4",
				"1234 Rue St-Denis #4",
				"1234 RUE ST DENIS APP 4",
				"4-1234 rue Saint Denis",
				"1234 rue Saint-Denis, appartement 4, Montréal (Québec) H2X 3J6",
				"1234 rue St.-Denis, logement 4",
			},
		},
		{
			name: "accents and a French direction",
			want: Key{Civic: "500", Street: "RENE LEVESQUE", Type: "BLVD", Direction: "W"},
			typed: []string{
				"500 boulevard René-Lévesque Ouest",
				"500 boul. Rene-Levesque O",
				"500, BOULEVARD RENÉ-LÉVESQUE OUEST, MONTRÉAL",
				"500 Blvd Rene Levesque West",
				"500 René-Lévesque Blvd W",
			},
		},
		{
			name: "numbered streets",
			want: Key{Civic: "45", Street: "1", Type: "AVE"},
			typed: []string{
				"45 1st Ave",
				"45 First Avenue",
				"45 1ST AVENUE",
				"45 1 Ave",
				"45, 1re Avenue",
				"45 Première Avenue",
			},
		},
		{
			name: "a civic suffix",
			want: Key{Civic: "12", Suffix: "A", Street: "ELM", Type: "CRES"},
			typed: []string{
				"12A Elm Crescent",
				"12 A Elm Cres",
				"12-A Elm Cres.",
				"12a elm cresc",
			},
		},
		{
			name: "a two-word direction",
			want: Key{Civic: "9", Street: "PRINCIPALE", Type: "RUE", Direction: "NE"},
			typed: []string{
				"9 rue Principale Nord-Est",
				"9 rue Principale NE",
				"9 Rue Principale Northeast",
				"9 rue principale nord est",
			},
		},
		{
			name: "Saint in an English name",
			want: Key{Civic: "77", Street: "SAINT CLAIR", Type: "AVE", Direction: "E"},
			typed: []string{
				"77 St. Clair Ave. E.",
				"77 Saint Clair Avenue East",
				"77 ST CLAIR AVE E, Toronto ON M4T 1M5",
				"77 St Clair Av E",
			},
		},
		{
			name: "a leading direction",
			want: Key{Civic: "300", Street: "HASTINGS", Type: "ST", Direction: "W"},
			typed: []string{
				"300 W Hastings St",
				"300 West Hastings Street",
				"300 Hastings St W",
			},
		},
		{
			name:  "a court",
			want:  Key{Civic: "8", Street: "MAPLE", Type: "CRT"},
			typed: []string{"8 Maple Court", "8 Maple Ct", "8 Maple Crt."},
		},
		{
			name:  "a road run on into its town",
			want:  Key{Civic: "1", Street: "RIVER", Type: "RD"},
			typed: []string{"1 River Road", "1 River Rd Ottawa", "1 River Rd Ottawa ON K2P1A1", "1 River Rd., Ottawa"},
		},
		{
			name:  "a chemin",
			want:  Key{Civic: "2200", Street: "DU LAC", Type: "CH"},
			typed: []string{"2200 chemin du Lac", "2200 ch. du Lac", "2200 CH DU LAC"},
		},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range g.typed {
				if got := Parse(s).Key; got != g.want {
					t.Errorf("Parse(%q)\n got %+v\nwant %+v", s, got, g.want)
				}
			}
		})
	}
}

func TestParseStreetTypeSpellings(t *testing.T) {
	t.Parallel()
	spellings := map[string][]string{
		"ST":    {"Street", "St", "St.", "Str"},
		"AVE":   {"Avenue", "Ave", "Av", "Av."},
		"RD":    {"Road", "Rd", "Rd."},
		"DR":    {"Drive", "Dr", "Dr."},
		"BLVD":  {"Boulevard", "Blvd", "Boul", "Boul."},
		"CRES":  {"Crescent", "Cres", "Cresc"},
		"CRT":   {"Court", "Crt", "Ct"},
		"PL":    {"Place", "Pl"},
		"LANE":  {"Lane", "Ln"},
		"WAY":   {"Way"},
		"TRAIL": {"Trail", "Trl"},
		"TERR":  {"Terrace", "Terr", "Ter"},
		"CLOSE": {"Close"},
		"GATE":  {"Gate"},
		"CIR":   {"Circle", "Cir"},
		"PKY":   {"Parkway", "Pkwy"},
	}
	for want, forms := range spellings {
		for _, f := range forms {
			in := "10 Oakwood " + f
			if got := Parse(in).Key; got != (Key{Civic: "10", Street: "OAKWOOD", Type: want}) {
				t.Errorf("Parse(%q) = %+v, want type %s", in, got, want)
			}
		}
	}
	french := map[string][]string{
		"RUE":    {"rue", "Rue"},
		"CH":     {"chemin", "ch.", "Ch"},
		"BLVD":   {"boulevard", "boul."},
		"AVE":    {"avenue", "av."},
		"MONTEE": {"montée", "Montee"},
		"IMP":    {"impasse"},
		"COTE":   {"côte"},
	}
	for want, forms := range french {
		for _, f := range forms {
			in := "10 " + f + " des Érables"
			if got := Parse(in).Key; got != (Key{Civic: "10", Street: "DES ERABLES", Type: want}) {
				t.Errorf("Parse(%q) = %+v, want type %s", in, got, want)
			}
		}
	}
}

func TestParseDirectionSpellings(t *testing.T) {
	t.Parallel()
	spellings := map[string][]string{
		"N":  {"N", "North", "Nord", "N."},
		"S":  {"S", "South", "Sud"},
		"E":  {"E", "East", "Est"},
		"W":  {"W", "West", "Ouest", "O"},
		"NE": {"NE", "Northeast", "Nord-Est", "North East"},
		"NW": {"NW", "Northwest", "Nord-Ouest", "NO"},
		"SE": {"SE", "Southeast", "Sud-Est"},
		"SW": {"SW", "Southwest", "Sud-Ouest", "SO"},
	}
	for want, forms := range spellings {
		for _, f := range forms {
			in := "10 Oakwood Ave " + f
			if got := Parse(in).Key; got != (Key{Civic: "10", Street: "OAKWOOD", Type: "AVE", Direction: want}) {
				t.Errorf("Parse(%q) = %+v, want direction %s", in, got, want)
			}
		}
	}
}

func TestParseStreetsThatLookLikeOtherThings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Key
	}{
		{"10 Avenue Road", Key{Civic: "10", Street: "AVENUE", Type: "RD"}},
		{"10 North St", Key{Civic: "10", Street: "NORTH", Type: "ST"}},
		{"10 Rue Nord", Key{Civic: "10", Street: "NORD", Type: "RUE"}},
		{"10 Park Ave", Key{Civic: "10", Street: "PARK", Type: "AVE"}},
		{"10 Bay St", Key{Civic: "10", Street: "BAY", Type: "ST"}},
		{"10 East Ave", Key{Civic: "10", Street: "EAST", Type: "AVE"}},
		{"8711 No. 3 Road", Key{Civic: "8711", Street: "NO 3", Type: "RD"}},
		{"10 Ste-Catherine St", Key{Civic: "10", Street: "SAINTE CATHERINE", Type: "ST"}},
		{"10 Ste 5 Main St", Key{Civic: "10", Street: "MAIN", Type: "ST", Unit: "5"}},
		{"10 O'Connor St", Key{Civic: "10", Street: "OCONNOR", Type: "ST"}},
		{"10 Mt Pleasant Rd", Key{Civic: "10", Street: "MOUNT PLEASANT", Type: "RD"}},
		{"10 Sunnyside", Key{Civic: "10", Street: "SUNNYSIDE"}},
		{"15 1/2 Queen St", Key{Civic: "15", Suffix: "1/2", Street: "QUEEN", Type: "ST"}},
		{"Unit 4B, 20 King St", Key{Civic: "20", Street: "KING", Type: "ST", Unit: "4B"}},
		{"B2-20 King St", Key{Civic: "20", Street: "KING", Type: "ST", Unit: "B2"}},
		{"20 King St Suite 1200", Key{Civic: "20", Street: "KING", Type: "ST", Unit: "1200"}},
		{"20 King St, bureau 1200", Key{Civic: "20", Street: "KING", Type: "ST", Unit: "1200"}},
		{"20 King St W, Toronto", Key{Civic: "20", Street: "KING", Type: "ST", Direction: "W"}},
		{"1234 Hwy 7", Key{Civic: "1234", Street: "7", Type: "HWY"}},
		{"1234 Highway 7 E", Key{Civic: "1234", Street: "7", Type: "HWY", Direction: "E"}},
		{"1000 Concession 6", Key{Civic: "1000", Street: "6", Type: "CONC"}},
		{"123 Main St, Suite #400", Key{Civic: "123", Street: "MAIN", Type: "ST", Unit: "400"}},
		{"Apt 4 123 Main St", Key{Civic: "123", Street: "MAIN", Type: "ST", Unit: "4"}},
		{"123 Main St E Unit 5 Ottawa ON", Key{Civic: "123", Street: "MAIN", Type: "ST", Direction: "E", Unit: "5"}},
		{"55 rue de la Gauchetière Ouest, bureau 300", Key{Civic: "55", Street: "DE LA GAUCHETIERE", Type: "RUE", Direction: "W", Unit: "300"}},
		{"", Key{}},
		{",,,", Key{}},
		{"Main Street", Key{Street: "MAIN", Type: "ST"}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := Parse(tc.in).Key; got != tc.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParsePostalCode(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"123 Main St, Ottawa ON K1A 0B1":  "K1A0B1",
		"123 Main St, Ottawa ON k1a0b1":   "K1A0B1",
		"123 Main St K1A-0B1":             "K1A0B1",
		"K1A 0B1, 123 Main St":            "K1A0B1",
		"123 Main St, Ottawa":             "",
		"123 Main St, Ottawa ON K1A 0B":   "",
		"1234 rue X, Montréal QC H2X 3J6": "H2X3J6",
	}
	for in, want := range cases {
		if got := Parse(in).PostalCode; got != want {
			t.Errorf("Parse(%q).PostalCode = %q, want %q", in, got, want)
		}
	}
	if got := Parse("K1A 0B1, 123 Main St").Key; got != (Key{Civic: "123", Street: "MAIN", Type: "ST"}) {
		t.Errorf("a postal code first spoils the key: %+v", got)
	}
}

func TestPostalCode(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"K1A 0B1": "K1A0B1", "k1a0b1": "K1A0B1", " k1a-0b1 ": "K1A0B1", "H2X 3J6": "H2X3J6",
		"": "", "K1A 0B": "", "K1A 0B12": "", "11A 0B1": "", "90210": "", "KIA 0B1": "",
	}
	for in, want := range cases {
		if got := PostalCode(in); got != want {
			t.Errorf("PostalCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFromPartsMeetsParse is the point of the package: a register row, its
// columns spelt however the release spells them, gives the key of the
// address as people type it.
func TestFromPartsMeetsParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		row   [6]string // civic, suffix, street name, type, direction, unit
		typed string
	}{
		{[6]string{"123", "", "Main", "ST", "N", "101"}, "Apt 101, 123 Main Street North"},
		{[6]string{"123", "", "Main", "Street", "North", "#101"}, "101-123 Main St N"},
		{[6]string{"1234", "", "Saint-Denis", "RUE", "", "4"}, "1234 rue St-Denis app. 4"},
		{[6]string{"500", "", "René-Lévesque", "BOUL", "O", ""}, "500 boulevard Rene-Levesque Ouest"},
		{[6]string{"45", "", "1st", "AVE", "", ""}, "45 First Avenue"},
		{[6]string{"12", "A", "Elm", "CRES", "", ""}, "12a Elm Crescent"},
		{[6]string{"9", "", "Principale", "RUE", "NE", ""}, "9 rue Principale Nord-Est"},
		{[6]string{"77", "", "St. Clair", "AVE", "E", ""}, "77 Saint Clair Avenue East"},
		{[6]string{"2200", "", "du Lac", "CH", "", ""}, "2200 chemin du Lac"},
		{[6]string{"0015", "1/2", "Queen", "ST", "", ""}, "15 1/2 Queen Street"},
		{[6]string{"20", "", "King", "ST", "W", "Unit 4B"}, "4B-20 King St W"},
		{[6]string{"8", "", "Maple", "Court", "", ""}, "8 Maple Ct"},
	}
	for _, tc := range cases {
		r := tc.row
		row := FromParts(r[0], r[1], r[2], r[3], r[4], r[5])
		if typed := Parse(tc.typed).Key; row != typed {
			t.Errorf("row %q\n gives %+v\n typed %q gives %+v", r, row, tc.typed, typed)
		}
	}
}

func TestKeyString(t *testing.T) {
	t.Parallel()
	k := Key{Civic: "123", Suffix: "A", Street: "MAIN", Type: "ST", Direction: "N", Unit: "101"}
	if got, want := k.String(), "123|A|MAIN|ST|N|101"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got := k.Building(); got.Unit != "" || got.Civic != "123" {
		t.Fatalf("Building() = %+v", got)
	}
}

var benchAddresses = []string{
	"Unit 101, 123 Main Street North, Ottawa, ON K1A 0B1",
	"1234, rue Saint-Denis, app. 4, Montréal (Québec) H2X 3J6",
	"#101-123 Main St. N.",
	"45 First Avenue",
	"500 boulevard René-Lévesque Ouest",
	"77 St. Clair Ave. E., Toronto ON M4T 1M5",
}

// BenchmarkParse reports how many typed addresses one core normalises a
// second (addresses/s).
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Parse(benchAddresses[i%len(benchAddresses)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "addresses/s")
}

// BenchmarkFromParts is the import's side: one register row's key.
func BenchmarkFromParts(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		FromParts("1234", "", "Saint-Denis", "RUE", "", "4")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
