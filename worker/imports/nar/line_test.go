package nar

import "testing"

func TestBuildAddressLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a    Address
		want string
	}{
		{"everything", Address{Unit: "101", CivicNo: "123", CivicSuffix: "A", StreetName: "Main", StreetType: "St", StreetDir: "NW"}, "101-123A Main St NW"},
		{"civic only", Address{CivicNo: "45", StreetName: "Queen", StreetType: "St", StreetDir: "W"}, "45 Queen St W"},
		{"no type", Address{CivicNo: "7", StreetName: "Broadway"}, "7 Broadway"},
		{"fraction suffix", Address{CivicNo: "800", CivicSuffix: "1/2", StreetName: "Robson", StreetType: "St"}, "800 1/2 Robson St"},
		{"unit, no suffix", Address{Unit: "B", CivicNo: "12", StreetName: "Oak", StreetType: "Ave"}, "B-12 Oak Ave"},
		{"spaces collapsed", Address{CivicNo: " 12 ", StreetName: "  St.  Clair ", StreetType: "Ave", StreetDir: " E"}, "12 St. Clair Ave E"},
		{"tabs collapsed", Address{CivicNo: "12", StreetName: "Main\tRoad"}, "12 Main Road"},
		{"french type first", Address{CivicNo: "1000", StreetName: "Principale", StreetType: "rue", StreetDir: "O"}, "1000 rue Principale O"},
		{"chemin outside Quebec", Address{ProvCode: "13", CivicNo: "5", StreetName: "du Lac", StreetType: "CH"}, "5 CH du Lac"},
		{"shared type in Quebec", Address{ProvCode: "24", CivicNo: "300", StreetName: "des Érables", StreetType: "AV"}, "300 AV des Érables"},
		{"shared type elsewhere", Address{ProvCode: "35", CivicNo: "300", StreetName: "Spadina", StreetType: "AVENUE"}, "300 Spadina AVENUE"},
		{"ordinal keeps type after", Address{ProvCode: "24", CivicNo: "12", StreetName: "1re", StreetType: "AV"}, "12 1re AV"},
		{"ordinal rue", Address{ProvCode: "24", CivicNo: "4", StreetName: "3e", StreetType: "RUE"}, "4 3e RUE"},
		{"boulevard in Quebec with direction", Address{ProvCode: "24", CivicNo: "1", StreetName: "René-Lévesque", StreetType: "BOUL", StreetDir: "O"}, "1 BOUL René-Lévesque O"},
		{"unit without civic", Address{Unit: "4", StreetName: "Main", StreetType: "St"}, "Main St Unit 4"},
		{"nothing", Address{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := BuildAddressLine(tc.a); got != tc.want {
				t.Errorf("BuildAddressLine = %q, want %q", got, tc.want)
			}
		})
	}
}
