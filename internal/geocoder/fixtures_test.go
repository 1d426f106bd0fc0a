package geocoder

// Answers in each provider's own format, trimmed from real responses for
// Parliament Hill, Ottawa (111 Wellington Street).

const nominatimSearch = `[
  {
    "place_id": 310405398,
    "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
    "osm_type": "way",
    "osm_id": 30330542,
    "lat": "45.4235937",
    "lon": "-75.7009290",
    "category": "building",
    "type": "government",
    "place_rank": 30,
    "importance": 0.5290,
    "addresstype": "building",
    "name": "Centre Block",
    "display_name": "Centre Block, 111, Wellington Street, Centretown, Somerset, Ottawa, Eastern Ontario, Ontario, K1A 0A9, Canada",
    "boundingbox": ["45.4230245", "45.4241684", "-75.7016929", "-75.7001583"]
  }
]`

const nominatimReverse = `{
  "place_id": 310405398,
  "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
  "osm_type": "way",
  "osm_id": 30330542,
  "lat": "45.4235937",
  "lon": "-75.7009290",
  "category": "building",
  "type": "government",
  "place_rank": 30,
  "importance": 0.5290,
  "addresstype": "building",
  "name": "Centre Block",
  "display_name": "Centre Block, 111, Wellington Street, Centretown, Somerset, Ottawa, Eastern Ontario, Ontario, K1A 0A9, Canada",
  "boundingbox": ["45.4230245", "45.4241684", "-75.7016929", "-75.7001583"]
}`

const nominatimReverseStreet = `{"place_id":1,"lat":"45.4201","lon":"-75.7003","category":"highway","type":"residential","place_rank":26,"addresstype":"road","name":"Sparks Street","display_name":"Sparks Street, Centretown, Ottawa, Ontario, K1P 5B7, Canada"}`

const nominatimUnableToGeocode = `{"error":"Unable to geocode"}`

const photonSearch = `{
  "features": [
    {
      "geometry": {"coordinates": [-75.700929, 45.4235937], "type": "Point"},
      "type": "Feature",
      "properties": {
        "osm_type": "W", "osm_id": 30330542, "osm_key": "building", "osm_value": "government",
        "extent": [-75.7016929, 45.4241684, -75.7001583, 45.4230245],
        "country": "Canada", "countrycode": "CA", "state": "Ontario", "county": "Eastern Ontario",
        "city": "Ottawa", "district": "Centretown", "postcode": "K1A 0A9",
        "street": "Wellington Street", "housenumber": "111",
        "name": "Centre Block", "type": "house"
      }
    }
  ],
  "type": "FeatureCollection"
}`

const photonReverseStreet = `{"features":[{"geometry":{"coordinates":[-75.7003,45.4201],"type":"Point"},"type":"Feature","properties":{"osm_id":1,"osm_type":"W","osm_key":"highway","osm_value":"pedestrian","country":"Canada","countrycode":"CA","state":"Ontario","city":"Ottawa","postcode":"K1P 5B7","name":"Sparks Street","type":"street"}}],"type":"FeatureCollection"}`

const photonEmpty = `{"features":[],"type":"FeatureCollection"}`

const mapboxForward = `{
  "type": "FeatureCollection",
  "features": [
    {
      "type": "Feature",
      "id": "dXJuOm1ieGFkcjpjMmM0N2RmNy0xZWE0LTQ4NmEtYjYxZC0xNjQ2ODNjZGQ3ZTc",
      "geometry": {"type": "Point", "coordinates": [-75.700935, 45.423588]},
      "properties": {
        "mapbox_id": "dXJuOm1ieGFkcjpjMmM0N2RmNy0xZWE0LTQ4NmEtYjYxZC0xNjQ2ODNjZGQ3ZTc",
        "feature_type": "address",
        "full_address": "111 Wellington Street, Ottawa, Ontario K1A 0A9, Canada",
        "name": "111 Wellington Street",
        "name_preferred": "111 Wellington Street",
        "coordinates": {
          "longitude": -75.700901, "latitude": 45.42352, "accuracy": "rooftop",
          "routable_points": [{"name": "default", "latitude": 45.42311, "longitude": -75.70085}]
        },
        "place_formatted": "Ottawa, Ontario K1A 0A9, Canada",
        "match_code": {
          "address_number": "matched", "street": "matched", "postcode": "unmatched", "place": "matched",
          "region": "matched", "locality": "not_applicable", "country": "inferred", "confidence": "exact"
        },
        "context": {
          "address": {"mapbox_id": "x", "address_number": "111", "street_name": "Wellington Street", "name": "111 Wellington Street"},
          "street": {"mapbox_id": "y", "name": "Wellington Street"},
          "postcode": {"mapbox_id": "z", "name": "K1A 0A9"},
          "place": {"mapbox_id": "p", "name": "Ottawa", "wikidata_id": "Q1930"},
          "region": {"mapbox_id": "r", "name": "Ontario", "wikidata_id": "Q1904", "region_code": "ON", "region_code_full": "CA-ON"},
          "country": {"mapbox_id": "c", "name": "Canada", "wikidata_id": "Q16", "country_code": "CA", "country_code_alpha_3": "CAN"}
        }
      }
    }
  ],
  "attribution": "NOTICE: © 2024 Mapbox and its suppliers. All rights reserved."
}`

const mapboxReversePlace = `{"type":"FeatureCollection","features":[{"type":"Feature","id":"p","geometry":{"type":"Point","coordinates":[-75.69719,45.42153]},"properties":{"mapbox_id":"p","feature_type":"place","name":"Ottawa","place_formatted":"Ontario, Canada","coordinates":{"longitude":-75.69719,"latitude":45.42153}}}],"attribution":"NOTICE: © 2024 Mapbox and its suppliers. All rights reserved."}`

const mapboxEmpty = `{"type":"FeatureCollection","features":[],"attribution":"NOTICE: © 2024 Mapbox and its suppliers. All rights reserved."}`

const mapboxUnauthorized = `{"message":"Not Authorized - Invalid Token"}`

const googleOK = `{
   "results" : [
      {
         "address_components" : [
            {"long_name" : "111", "short_name" : "111", "types" : [ "street_number" ]},
            {"long_name" : "Wellington Street", "short_name" : "Wellington St", "types" : [ "route" ]},
            {"long_name" : "Ottawa", "short_name" : "Ottawa", "types" : [ "locality", "political" ]},
            {"long_name" : "Ontario", "short_name" : "ON", "types" : [ "administrative_area_level_1", "political" ]},
            {"long_name" : "Canada", "short_name" : "CA", "types" : [ "country", "political" ]},
            {"long_name" : "K1A 0A9", "short_name" : "K1A 0A9", "types" : [ "postal_code" ]}
         ],
         "formatted_address" : "111 Wellington St, Ottawa, ON K1A 0A9, Canada",
         "geometry" : {
            "location" : {"lat" : 45.4235937, "lng" : -75.70092899999999},
            "location_type" : "ROOFTOP",
            "viewport" : {
               "northeast" : {"lat" : 45.4249426802915, "lng" : -75.69958001970849},
               "southwest" : {"lat" : 45.4222447197085, "lng" : -75.70227798029151}
            }
         },
         "place_id" : "ChIJ2fdnh0YFzkwRoVNZ5_ZVrWs",
         "plus_code" : {"compound_code" : "CPFX+CM Ottawa, ON, Canada", "global_code" : "87Q6CPFX+CM"},
         "types" : [ "street_address" ]
      }
   ],
   "status" : "OK"
}`

const googlePartial = `{"results":[{"formatted_address":"Wellington St, Ottawa, ON, Canada","geometry":{"location":{"lat":45.4236,"lng":-75.7},"location_type":"GEOMETRIC_CENTER"},"partial_match":true,"place_id":"x","types":["route"]}],"status":"OK"}`

const googleZero = `{"results":[],"status":"ZERO_RESULTS"}`

const googleOverQueryLimit = `{"error_message":"You have exceeded your rate-limit for this API.","results":[],"status":"OVER_QUERY_LIMIT"}`

const googleDenied = `{"error_message":"The provided API key is invalid. ","results":[],"status":"REQUEST_DENIED"}`

const googleInvalid = `{"results":[],"status":"INVALID_REQUEST"}`
