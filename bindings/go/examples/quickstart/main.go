// Classify three sentences with one batch, at half the price.
//
//	OPENAI_API_KEY=sk-... go run ./examples/quickstart
//
// Against a local server: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 as well.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"

	obatch "github.com/obatch/obatch/bindings/go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	b, err := obatch.New(
		obatch.WithProvider("openai"), // key and URL: OPENAI_API_KEY, OPENAI_BASE_URL
		obatch.WithMetadata("project", "quickstart"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	for _, text := range []string{"I love it", "It broke after a day", "Okay, I guess"} {
		_, err := b.Add(map[string]any{ // ids: request-1, request-2, ...
			"model": "gpt-4o-mini",
			"messages": []map[string]string{
				{"role": "user", "content": "Positive, negative or neutral? " + text},
			},
		})
		if err != nil {
			log.Fatal(err) // errors.Is(err, obatch.ErrLimit), obatch.ErrJSON, ...
		}
	}
	if err := b.Submit(ctx); err != nil {
		log.Fatal(err)
	}

	info, err := b.Wait(ctx, func(i obatch.Info) {
		fmt.Fprintf(os.Stderr, "%s %s %d/%d\n", i.Phase, i.RemoteStatus, i.RequestsCompleted, i.RequestsTotal)
	})
	if err != nil && !errors.Is(err, obatch.ErrExpired) && !errors.Is(err, obatch.ErrCancelled) {
		log.Fatal(err) // Ctrl-C: the batch goes on; resume it with obatch.Resume(ctx, id, ...)
	}
	fmt.Printf("batch %s %s; output in %s\n", info.BatchID, info.RemoteStatus, info.OutputPath)

	for r, err := range b.Results() { // input order, failures and gaps included
		if err != nil {
			log.Fatal(err)
		}
		switch {
		case r.Kind == obatch.Missing:
			fmt.Printf("%s -> (no result)\n", r.CustomID)
		case r.OK():
			var reply struct {
				Choices []struct {
					Message struct{ Content string } `json:"message"`
				} `json:"choices"`
			}
			if err := r.Decode(&reply); err != nil || len(reply.Choices) == 0 {
				fmt.Printf("%s -> %d %s\n", r.CustomID, r.StatusCode, r.RawBody)
				continue
			}
			fmt.Printf("%s -> %d %s\n", r.CustomID, r.StatusCode, reply.Choices[0].Message.Content)
		default:
			fmt.Printf("%s -> %d %s\n", r.CustomID, r.StatusCode, r.ErrorMessage)
		}
	}
}
