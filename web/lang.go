package web

import "strings"

// LangCookie holds the language a visitor chose with the switch on every
// page ("en" or "fr"); it wins over Accept-Language. The pages' script sets it
// (web/static/js/i18n.js).
const LangCookie = "cm_lang"

// languages are the languages of the pages, the first the default.
func languages() []string { return []string{"en", "fr"} }

// Language picks the page's language: the cookie when it names one of
// languages, else the best of Accept-Language, else English.
func Language(cookie, acceptLanguage string) string {
	for _, l := range languages() {
		if cookie == l {
			return l
		}
	}
	best, bestQ := languages()[0], 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := quality(params)
		for _, l := range languages() {
			if primary == l && q > bestQ {
				best, bestQ = l, q
			}
		}
	}
	return best
}

// serverText are the few strings the server writes itself (titles and
// descriptions in the shell, before the app's own strings load).
var serverText = map[string]map[string]string{
	"en": {
		"home.title":            "Campaigns — Changemaker",
		"home.description":      "Act on the campaigns that matter to you: find your representatives and write to them.",
		"login.title":           "Sign in — Changemaker",
		"admin.title":           "Administration — Changemaker",
		"gallery.title":         "Gallery — Changemaker",
		"gallery.description":   "Videos from our campaigns.",
		"verify.title":          "Response verification — Changemaker",
		"notfound.title":        "Page not found — Changemaker",
		"notfound.campaign":     "Campaign not found — Changemaker",
		"responses.titlePrefix": "Responses: ",
		"noscript":              "This site needs JavaScript to work.",
	},
	"fr": {
		"home.title":            "Campagnes — Changemaker",
		"home.description":      "Agissez pour les causes qui vous tiennent à cœur : trouvez vos élus et écrivez-leur.",
		"login.title":           "Connexion — Changemaker",
		"admin.title":           "Administration — Changemaker",
		"gallery.title":         "Galerie — Changemaker",
		"gallery.description":   "Les vidéos de nos campagnes.",
		"verify.title":          "Vérification de la réponse — Changemaker",
		"notfound.title":        "Page introuvable — Changemaker",
		"notfound.campaign":     "Campagne introuvable — Changemaker",
		"responses.titlePrefix": "Réponses : ",
		"noscript":              "Ce site a besoin de JavaScript pour fonctionner.",
	},
}

func text(lang, key string) string {
	if s, ok := serverText[lang][key]; ok {
		return s
	}
	return serverText["en"][key]
}
