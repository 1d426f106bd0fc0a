package media_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/api"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

// unreachableRedis is an address nothing listens on.
const unreachableRedis = "127.0.0.1:1"

// redisDown builds the same media API on the same database and media root,
// but with its Redis and asynq clients pointed at a port nothing listens on.
func (b *bundle) redisDown(t *testing.T) *api.App {
	t.Helper()
	deps := b.env.Deps
	dead := asynq.RedisClientOpt{Addr: unreachableRedis, DialTimeout: 500 * time.Millisecond}
	deps.Redis = redis.NewClient(&redis.Options{Addr: unreachableRedis, DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { deps.Redis.Close() })
	deps.AsynqRedis = dead
	deps.Queue = asynq.NewClient(dead)
	t.Cleanup(func() { deps.Queue.Close() })
	deps.Inspector = asynq.NewInspector(dead)
	t.Cleanup(func() { deps.Inspector.Close() })
	app, err := api.NewMedia(deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// TestUploadWhileRedisIsDown: an upload accepted while the media API cannot
// reach Redis is still 201, is recorded in Postgres, and reaches ready once
// the periodic media sweep runs against a Redis that is up.
func TestUploadWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	b := setup(t)

	app := b.redisDown(t)
	down := *b
	down.base = testenv.Serve(t, app)

	content := readFile(t, landscapeWithAudio(t))
	started := time.Now()
	status, body := down.upload(t, b.owner, "clip.mp4", content, map[string]string{"title": "offline"})
	if status != 201 || body["status"] != "processing" {
		t.Fatalf("upload with Redis down = %d %v, want 201 processing", status, body)
	}
	if d := time.Since(started); d > 15*time.Second {
		t.Errorf("upload took %v with Redis down; the enqueue must give up quickly", d)
	}
	t.Logf("upload answered in %v with Redis down", time.Since(started))
	id := idOf(t, body)
	if res := testenv.Do(t, app, testenv.Request{Method: "GET", Path: "/api/media/jobs", Token: b.manager}); res.Status != 503 || res.ErrorCode() != "unavailable" {
		t.Errorf("jobs with Redis down = %d %s, want 503 unavailable", res.Status, res.Body)
	}
	if _, err := b.env.Deps.Inspector.GetTaskInfo(tasks.QueueMedia, tasks.MediaProbeTaskID(id)); !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatalf("probe task in the real Redis: %v, want none (it could not have been enqueued)", err)
	}

	// Redis is back: a media worker runs, and the scheduler's sweep comes round.
	b.startWorker(t)
	started = time.Now()
	sweep, err := tasks.NewMediaSweep(tasks.MediaSweep{OlderThanSeconds: 0, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.env.Deps.Queue.EnqueueContext(context.Background(), sweep); err != nil {
		t.Fatal(err)
	}
	v := b.waitStatus(t, id, storage.VideoReady)
	t.Logf("ready %v after the sweep was enqueued", time.Since(started))
	if v.Width == nil || *v.Width != 320 || v.HasAudio == nil || !*v.HasAudio || !v.HasThumbnail {
		t.Fatalf("video after the sweep = %+v, want probed with a thumbnail", v)
	}
}
