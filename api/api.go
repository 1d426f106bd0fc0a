// Package api assembles the two Fiber apps — the main API and the media API —
// from their modules.
package api

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/api/admin"
	"changemaker/api/auth"
	"changemaker/api/campaigns"
	"changemaker/api/httpx"
	"changemaker/api/mapcanvass"
	"changemaker/api/mapcuts"
	"changemaker/api/mapgeocode"
	"changemaker/api/mapimports"
	"changemaker/api/maplocations"
	"changemaker/api/mapshifts"
	"changemaker/api/media"
	"changemaker/api/openapi"
	"changemaker/api/queues"
	"changemaker/api/representatives"
	"changemaker/api/responses"
	"changemaker/api/settings"
	"changemaker/api/users"
	"changemaker/config"
	"changemaker/internal/password"
	"changemaker/internal/queuemetrics"
	"changemaker/storage"
	"changemaker/web"
)

// Deps are what the apps need from the process.
type Deps struct {
	Config     config.Config
	Store      *storage.Store
	Redis      redis.UniversalClient
	AsynqRedis asynq.RedisConnOpt
	Queue      *asynq.Client // enqueues tasks
	Inspector  *asynq.Inspector
	Log        *slog.Logger
	AccessLog  *slog.Logger // nil: no access log
	Version    string
	BcryptCost int
	// Hashing bounds the bcrypt computations of this process; nil: one is
	// made from Config.
	Hashing *password.Gate
}

// App is a built Fiber app and what must be closed with it.
type App struct {
	*fiber.App
	closers []func() error
}

// Close shuts the app down and releases what it holds.
func (a *App) Close() error {
	err := a.App.Shutdown()
	for _, c := range a.closers {
		if cerr := c(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

type common struct {
	tokens  *httpx.Tokens
	auth    *httpx.Auth
	limiter *httpx.RateLimiter
	metrics *httpx.Metrics
}

func newCommon(d Deps) common {
	tokens := httpx.NewTokens(d.Config.JWTAccessSecret, httpx.AccessTokenTTL)
	return common{
		tokens:  tokens,
		auth:    httpx.NewAuth(tokens, d.Store),
		limiter: httpx.NewRateLimiter(d.Redis, d.Log),
		metrics: httpx.NewMetrics(httpx.NewRegistry()),
	}
}

func (d Deps) appOptions(name string, bodyLimit int, m *httpx.Metrics) httpx.AppOptions {
	return httpx.AppOptions{
		Name: name, BodyLimit: bodyLimit, CORSOrigin: d.Config.CORSOrigin,
		TrustedProxies: d.Config.TrustedProxies, Production: d.Config.IsProduction(),
		Log: d.Log, AccessLog: d.AccessLog, Metrics: m,
	}
}

func (d Deps) health(service string) *httpx.Health {
	return &httpx.Health{Service: service, Version: d.Version, Postgres: d.Store,
		Redis: httpx.RedisPinger{Client: d.Redis}}
}

// module is what every module's New returns, so all are assembled one way.
type module interface{ Routes(r fiber.Router) }

// modules mounts modules on r in order and keeps the first error, so a
// list of New calls reads as the list of modules.
type modules struct {
	r       fiber.Router
	err     error
	closers []func() error // of the modules that hold something (a Close method)
}

func (m *modules) add(h module, err error) {
	if m.err != nil {
		return
	}
	if err != nil {
		m.err = fmt.Errorf("build a module: %w", err)
		return
	}
	h.Routes(m.r)
	if c, ok := h.(interface{ Close() error }); ok {
		m.closers = append(m.closers, c.Close)
	}
}

func (d Deps) authOptions(c common) auth.Options {
	return auth.Options{
		Store: d.Store, Tokens: c.tokens, Auth: c.auth, Limiter: c.limiter, Log: d.Log,
		RefreshSecret: []byte(d.Config.JWTRefreshSecret), BcryptCost: d.BcryptCost, Hashing: d.Hashing,
		KnownDevices:  password.NewGate(1, 2, d.Config.HashWait),
		LoginLimit:    httpx.Limit{Name: "login", Max: d.Config.LoginRateLimit, Window: d.Config.LoginRateWindow},
		AccountLimit:  httpx.Limit{Name: "login-account", Max: d.Config.LoginAccountRateLimit, Window: d.Config.LoginAccountRateWindow},
		RegisterLimit: httpx.Limit{Name: "register", Max: d.Config.RegisterRateLimit, Window: d.Config.RegisterRateWindow},
		SecureCookies: d.Config.IsProduction(),
	}
}

// NewMain builds the main API: everything under /api.
func NewMain(d Deps) (*App, error) {
	if d.Hashing == nil {
		d.Hashing = password.NewGate(d.Config.HashConcurrency, d.Config.HashQueue, d.Config.HashWait)
	}
	c := newCommon(d)
	// Bodies are streamed so that the address imports read their uploads
	// as they arrive; BoundBody keeps API_BODY_LIMIT for every other route.
	opts := d.appOptions("main", d.Config.APIBodyLimit, c.metrics)
	opts.StreamRequestBody = true
	app := httpx.NewApp(opts)
	app.Server().DisablePreParseMultipartForm = true
	bodies := httpx.StreamedBodies{Limit: d.Config.APIBodyLimit, Stream: mapimports.IsUpload}
	app.Server().HeaderReceived = bodies.HeaderReceived
	app.Use(bodies.Middleware())
	// The pages (web/): every path outside /api/. Mounted first, as a
	// middleware that hands /api/ on at once; campaignPage is set once the
	// campaigns module exists.
	var campaignPage func(ctx context.Context, slug string) ([]byte, error)
	pages, err := web.New(web.Options{PublicURL: d.Config.Influence.PublicURL, MediaAPI: d.Config.WebMediaAPI,
		Production: d.Config.IsProduction(), Log: d.Log,
		Campaign: func(ctx context.Context, slug string) ([]byte, error) { return campaignPage(ctx, slug) }})
	if err != nil {
		return nil, fmt.Errorf("build the pages: %w", err)
	}
	pages.Routes(app)
	r := app.Group("/api")
	r.Get("/health", d.health("main").Handler)
	r.Get("/metrics", c.metrics.Handler())
	r.Get("/openapi.json", openapi.MustHandler(openapi.Main))
	box, err := storage.NewSecretBox(d.Config.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("open the settings secret box: %w", err)
	}
	m := &modules{r: r}
	m.add(auth.New(d.authOptions(c)))
	m.add(users.New(users.Options{Store: d.Store, Auth: c.auth, BcryptCost: d.BcryptCost, Hashing: d.Hashing}))
	m.add(settings.New(settings.Options{Store: d.Store, Auth: c.auth, Box: box, AllowPrivateSMTP: d.Config.SMTPAllowPrivate}))
	campaignPage = d.influenceRoutes(m, c)
	m.add(maplocations.New(maplocations.Options{Store: d.Store, Auth: c.auth, Config: d.Config.Map, Log: d.Log}))
	m.add(mapcuts.New(mapcuts.Options{Store: d.Store, Auth: c.auth, Config: d.Config.Map, Log: d.Log}))
	m.add(mapgeocode.New(mapgeocode.Options{Config: d.Config.Geocode, Store: d.Store, Redis: d.Redis, Queue: d.Queue, Auth: c.auth, Registry: c.metrics.Registry, Log: d.Log}))
	m.add(mapshifts.New(mapshifts.Options{Store: d.Store, Auth: c.auth, Limiter: c.limiter, Queue: d.Queue, Config: d.Config.Canvass, Registry: c.metrics.Registry, Log: d.Log}))
	m.add(mapcanvass.New(mapcanvass.Options{Store: d.Store, Auth: c.auth, Limiter: c.limiter, Config: d.Config.Canvass, Registry: c.metrics.Registry, Log: d.Log}))
	m.add(mapimports.New(mapimports.Options{Store: d.Store, Auth: c.auth, Queue: d.Queue, Config: d.Config.Imports, Log: d.Log}))
	m.add(admin.New(admin.Options{Store: d.Store, Auth: c.auth, Limiter: c.limiter, Inspector: d.Inspector, Box: box, SMTP: d.Config.SMTP, AllowPrivateSMTP: d.Config.SMTPAllowPrivate, SMTPTimeout: d.Config.Influence.SMTPTimeout, Log: d.Log}))
	if m.err != nil {
		for _, close := range m.closers {
			_ = close()
		}
		return nil, m.err
	}
	dash := queues.Mount(app, c.auth, d.AsynqRedis)
	return &App{App: app, closers: append(m.closers, dash.Close)}, nil
}

// influenceRoutes mounts campaigns, the representative lookup and the response
// wall. The public routes answer 404 feature_disabled while the settings'
// enableInfluence is off; the admin routes keep working. It returns what the
// campaign pages read: the public campaign, as the API answers it (not
// found while the feature is off).
func (d Deps) influenceRoutes(m *modules, c common) func(ctx context.Context, slug string) ([]byte, error) {
	ic := d.Config.Influence
	feature := &httpx.FeatureSwitch{Settings: d.Store, Feature: "campaigns", TTL: ic.ToggleCacheTTL, Log: d.Log,
		On: func(st storage.Settings) bool { return st.EnableInfluence }}
	for _, prefix := range []string{"/public/campaigns", "/public/representatives", "/public/responses"} {
		m.r.Use(prefix, feature.Require()) // before the routes, so it runs first
	}
	camps, err := campaigns.New(campaigns.Options{Store: d.Store, Auth: c.auth, Limiter: c.limiter, Queue: d.Queue,
		Inspector: d.Inspector, Config: ic, Registry: c.metrics.Registry, Log: d.Log})
	m.add(camps, err)
	m.add(representatives.New(representatives.Options{Store: d.Store, Redis: d.Redis, Auth: c.auth,
		Limiter: c.limiter, Queue: d.Queue, Inspector: d.Inspector, Config: ic, Log: d.Log,
		Registry: c.metrics.Registry}))
	m.add(responses.New(responses.Options{Store: d.Store, Auth: c.auth, Limiter: c.limiter, Queue: d.Queue,
		Config: ic, TokenKey: storage.ResponseTokenKey(d.Config.EncryptionKey),
		VoterSalt: storage.UpvoteSalt(d.Config.EncryptionKey), Log: d.Log}))
	return func(ctx context.Context, slug string) ([]byte, error) {
		if !feature.Enabled(ctx) {
			return nil, web.ErrNotFound
		}
		body, err := camps.PublicPage(ctx, slug)
		if campaigns.IsNotFound(err) {
			return nil, fmt.Errorf("%w: %w", web.ErrNotFound, err)
		}
		return body, err
	}
}

// NewMedia builds the media API: health and metrics at the root and under
// /api/media, and its modules under /api/media.
func NewMedia(d Deps) (*App, error) {
	c := newCommon(d)
	opts := d.appOptions("media", d.Config.MediaBodyLimit, c.metrics)
	// Uploads are read from the connection as they arrive, never buffered;
	// media.Handler bounds every other route's body to MediaBodyLimit itself.
	opts.StreamRequestBody = true
	app := httpx.NewApp(opts)
	// Otherwise fasthttp spools a whole multipart body to temporary files
	// before the handler even runs.
	app.Server().DisablePreParseMultipartForm = true
	health := d.health("media")
	app.Get("/health", health.Handler)
	app.Get("/metrics", c.metrics.Handler())
	r := app.Group("/api/media")
	r.Get("/health", health.Handler)
	r.Get("/openapi.json", openapi.MustHandler(openapi.Media))
	r.Get("/auth/me", c.auth.Require(), func(ctx *fiber.Ctx) error {
		return ctx.JSON(fiber.Map{"user": auth.ToUser(*httpx.CurrentUser(ctx))})
	})
	mh, err := media.New(media.Options{
		Config: d.Config.Media, BodyLimit: d.Config.MediaBodyLimit,
		RateLimit:    httpx.Limit{Name: "media", Max: d.Config.MediaRateLimit, Window: d.Config.MediaRateWindow},
		ViewerSecret: d.Config.EncryptionKey, // as upvotes: rotating JWT secrets must not reset viewers
		Store:        d.Store, Redis: d.Redis, Queue: d.Queue, Inspector: d.Inspector,
		Auth: c.auth, Limiter: c.limiter, Registry: c.metrics.Registry, Log: d.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("build the media module: %w", err)
	}
	mh.Routes(r)
	return &App{App: app, closers: []func() error{mh.Close}}, nil
}

// NewQueues builds the standalone dashboard process: the dashboard at
// queues.RootPath, the auth routes its sign-in page needs, and health.
func NewQueues(d Deps) (*App, error) {
	c := newCommon(d)
	// The queues' state is in Redis: one process per deployment exports it,
	// this one (it runs once, and in `all`), not every API replica.
	if d.Inspector != nil {
		c.metrics.Registry.MustRegister(queuemetrics.New(d.Inspector, d.Log))
	}
	app := httpx.NewApp(d.appOptions("queues", d.Config.APIBodyLimit, c.metrics))
	app.Get("/", func(ctx *fiber.Ctx) error { return ctx.Redirect(queues.RootPath, fiber.StatusFound) })
	r := app.Group("/api")
	r.Get("/health", d.health("queues").Handler)
	r.Get("/metrics", c.metrics.Handler())
	m := &modules{r: r}
	if m.add(auth.New(d.authOptions(c))); m.err != nil {
		return nil, m.err
	}
	dash := queues.Mount(app, c.auth, d.AsynqRedis)
	return &App{App: app, closers: []func() error{dash.Close}}, nil
}
