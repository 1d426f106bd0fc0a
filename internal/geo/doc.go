// Package geo holds the map's pure geometry: parsing and validating the
// GeoJSON polygons that become cuts, and ordering canvassing stops into a
// walking route. Nothing here touches storage or the network; containment
// and other set queries stay in PostGIS.
package geo
