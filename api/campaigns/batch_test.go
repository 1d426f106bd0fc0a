package campaigns_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// Constituents sending at the same moment share the route's INSERTs
// (storage.EmailBatcher): each still gets back the IDs of its own rows,
// each row holds what its request sent, and the worker delivers every one
// exactly once.
func TestConcurrentSendsEachGetTheirOwnEmails(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	admin := env.CreateUser(storage.RoleSuperAdmin, "")
	camp := env.CreateCampaign(t, admin.ID)
	env.StartWorker(t)
	env.Lookup(t, "T5K 2J1")

	const senders = 40
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make([]answer, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"senderName": fmt.Sprintf("Sender %d", i),
				"senderEmail": fmt.Sprintf("s%d@batch.test", i), "postalCode": "T5K 2J1",
				"recipients": []map[string]any{{"email": testenv.RepMP.Email}, {"email": testenv.RepMLA.Email}}})
			req := httptest.NewRequest("POST", "/api/public/campaigns/"+camp.Slug+"/send-email", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Real-Ip", fmt.Sprintf("10.7.%d.1", i))
			res, err := env.Main.Test(req, int((30 * time.Second).Milliseconds()))
			if err != nil {
				answers[i].err = err
				return
			}
			defer res.Body.Close()
			answers[i].status = res.StatusCode
			answers[i].body, answers[i].err = io.ReadAll(res.Body)
		}()
	}
	wg.Wait()

	seen := map[int64]int{}
	for i, a := range answers {
		if a.err != nil || a.status != 202 {
			t.Fatalf("sender %d: %d %s %v, want 202", i, a.status, a.body, a.err)
		}
		var got struct {
			Emails []struct {
				ID            int64  `json:"id"`
				RecipientName string `json:"recipientName"`
			} `json:"emails"`
		}
		if err := json.Unmarshal(a.body, &got); err != nil || len(got.Emails) != 2 {
			t.Fatalf("sender %d: %s, want its two emails", i, a.body)
		}
		for r, e := range got.Emails {
			want := []string{testenv.RepMP.Name, testenv.RepMLA.Name}[r]
			row, err := env.Store.EmailByID(t.Context(), e.ID)
			if err != nil || row.SenderEmail != fmt.Sprintf("s%d@batch.test", i) || row.RecipientName != want || e.RecipientName != want {
				t.Errorf("sender %d, email %d: the row says %q to %q (%v), the answer %q; want s%d@batch.test to %q",
					i, e.ID, row.SenderEmail, row.RecipientName, err, e.RecipientName, i, want)
			}
			if j, dup := seen[e.ID]; dup {
				t.Errorf("email %d handed to senders %d and %d", e.ID, j, i)
			}
			seen[e.ID] = i
		}
	}

	// The batches are counted: 40 requests in all, in fewer statements
	// when they arrived together.
	metrics := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/metrics"})
	if !strings.Contains(string(metrics.Body), fmt.Sprintf("cm_send_insert_batch_requests_sum %d\n", senders)) {
		t.Errorf("the metrics do not count the %d requests written: %s", senders,
			grepLines(string(metrics.Body), "cm_send_insert_batch_requests"))
	}

	// Every email delivered once: one message per sender and recipient.
	msgs := env.SMTP.WaitFor(t, 2*senders, 60*time.Second)
	delivered := map[string]int{}
	for _, m := range msgs {
		from, err := mail.ParseAddress(m.Header.Get("Reply-To"))
		if err != nil {
			t.Fatalf("a message without the sender as Reply-To: %v", m.Header)
		}
		for _, to := range m.To {
			delivered[from.Address+" → "+to]++
		}
	}
	for i := range senders {
		for _, to := range []string{testenv.RepMP.Email, testenv.RepMLA.Email} {
			key := fmt.Sprintf("s%d@batch.test → %s", i, to)
			if n := delivered[key]; n != 1 {
				t.Errorf("%s delivered %d times, want once", key, n)
			}
		}
	}
	if len(msgs) != 2*senders {
		t.Errorf("%d messages delivered, want %d", len(msgs), 2*senders)
	}
}

// grepLines returns the lines of text that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
