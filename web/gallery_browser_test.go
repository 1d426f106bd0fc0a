package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"changemaker/internal/browsertest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// galPublished uploads a video through the API, waits for the media worker
// to make it ready and publishes it; it returns its ID.
func galPublished(t *testing.T, site *admSite, title string) int64 {
	t.Helper()
	ctx := context.Background()
	owner := site.env.CreateUser(storage.RoleSuperAdmin, "")
	admUpload(t, site.base, site.env.Token(owner), admVideo(t, "gallery.webm", "2"), title)
	var v storage.Video
	testenv.Eventually(t, 60*time.Second, "the video to be ready", func() bool {
		list, _, err := site.env.Store.ListVideos(ctx, storage.VideoFilter{Search: title, Limit: 1})
		if err != nil || len(list) == 0 {
			return false
		}
		v = list[0]
		return v.Status == storage.VideoReady && v.HasThumbnail
	})
	if _, err := site.env.Store.PublishVideo(ctx, v.ID, "videos", owner.ID); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// TestGalleryPages: the grid and the player pass axe-core and fit 360 px,
// in English and French, with screenshots for the README; a title is shown
// as text; the reactions work with the keyboard alone.
func TestGalleryPages(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	admEnableGallery(t, site.env)
	const title = `Spring cleanup <img src=x onerror="window.__pwned=1">`
	id := galPublished(t, site, title)
	b := browsertest.New(t)

	for _, vp := range []browsertest.Viewport{browsertest.Phone(), browsertest.Desktop()} {
		p := b.Page(t, vp)
		p.Navigate(site.base + "/gallery")
		p.WaitText("Video gallery")
		p.WaitVisible(".gallery-item a")
		p.Poll("the thumbnail", `(() => { const img = document.querySelector('.gallery-thumb'); return img && img.complete && img.naturalWidth > 0; })()`)
		p.WaitText(title)
		p.CheckA11y()
		p.CheckNoHorizontalScroll()
		p.Screenshot("gallery")

		p.Navigate(fmt.Sprintf("%s/gallery/%d", site.base, id))
		p.WaitVisible("video")
		p.WaitText(title)
		p.Poll("the video's metadata", `document.querySelector('video').readyState >= 1`)
		p.CheckA11y()
		p.CheckNoHorizontalScroll()
		p.Screenshot("gallery-video")
		var pwned bool
		p.Eval(`window.__pwned === 1`, &pwned)
		if pwned {
			t.Fatal("the video title ran as HTML")
		}
		p.CheckClean()
	}

	// Keyboard alone: Tab to the first reaction, Enter.
	p := b.Page(t, browsertest.Desktop())
	p.Navigate(fmt.Sprintf("%s/gallery/%d", site.base, id))
	p.WaitVisible(`button[data-reaction="like"]`)
	for i := 0; i < 40; i++ {
		var onLike bool
		p.Eval(`document.activeElement && document.activeElement.dataset && document.activeElement.dataset.reaction === 'like'`, &onLike)
		if onLike {
			break
		}
		p.Keys("\t")
	}
	p.Keys("\r")
	p.Poll("the keyboard reaction", `document.querySelector('button[data-reaction="like"]').getAttribute('aria-pressed') === 'true'`)

	// French.
	fr := b.Page(t, browsertest.Phone(), browsertest.AcceptLanguage("fr-CA,fr;q=0.9"))
	fr.Navigate(site.base + "/gallery")
	fr.WaitText("Galerie vidéo")
	fr.WaitText("Choisissez-en une")
	fr.CheckA11y()
	fr.Navigate(fmt.Sprintf("%s/gallery/%d", site.base, id))
	fr.WaitText("J’aime")
	fr.WaitText("Toutes les vidéos")
	fr.Screenshot("gallery-video-fr")
	fr.CheckClean()
}

// TestGalleryClosedAndMissing: with the gallery switched off the page says
// so; an unknown video says it is not in the gallery.
func TestGalleryClosedAndMissing(t *testing.T) {
	t.Parallel()
	site := newAdmSite(t)
	off := false
	if _, err := site.env.Store.UpdateSettings(context.Background(), storage.SettingsPatch{EnableMedia: &off}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	p := b.Page(t, browsertest.Phone())
	p.Navigate(site.base + "/gallery")
	p.WaitText("The video gallery is not open.")
	on := true
	if _, err := site.env.Store.UpdateSettings(context.Background(), storage.SettingsPatch{EnableMedia: &on}); err != nil {
		t.Fatal(err)
	}
	p.Navigate(site.base + "/gallery/999999")
	p.WaitText("This video is not in the gallery.")
	p.CheckA11y()
	p.CheckClean()
}
