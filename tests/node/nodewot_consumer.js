// Consume a labthings Thing with node-wot (the W3C Thingweb consumer) and its HTTP binding.
//
// Usage: node nodewot_consumer.js http://127.0.0.1:PORT/counter/
// Exits non-zero on the first failed check; prints "all checks passed" at the end.
"use strict";

const assert = require("node:assert/strict");
const { Servient } = require("@node-wot/core");
const { HttpClientFactory } = require("@node-wot/binding-http");

const tdUrl = process.argv[2];
const base = new URL(tdUrl).origin;
const sleepUntil = async (check, what) => {
    for (let i = 0; i < 800; i++) {
        if (check()) return;
        await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
};
const post = (path, body) =>
    fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
    });

(async () => {
    const servient = new Servient();
    servient.addClientFactory(new HttpClientFactory(null));
    const WoT = await servient.start();
    const thing = await WoT.consume(await WoT.requestThingDescription(tdUrl));

    // Properties over HTTP.
    assert.equal(await (await thing.readProperty("step")).value(), 1);
    await thing.writeProperty("step", 7);
    assert.equal(await (await thing.readProperty("step")).value(), 7);
    await assert.rejects(thing.writeProperty("step", 1000), /Unprocessable|422/);

    // An event, over Server-Sent Events: every emission, in order.
    const ticks = [];
    const events = await thing.subscribeEvent("ticked", async (d) => ticks.push(await d.value()));
    assert.equal(thing.getThingDescription().events.ticked.forms[events.formIndex].subprotocol, "sse");
    assert.equal((await post("/counter/tick", { n: 5 })).status, 201);
    await sleepUntil(() => ticks.length >= 5, "five ticks");
    assert.deepEqual(ticks, [1, 2, 3, 4, 5]);
    await events.stop();

    // An observable property, over Server-Sent Events: the current value, then each change.
    const steps = [];
    const observed = await thing.observeProperty("step", async (d) => steps.push(await d.value()));
    await sleepUntil(() => steps.length >= 1, "the current value");
    await fetch(`${base}/counter/step`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: "9",
    });
    await sleepUntil(() => steps.includes(9), "the change");
    assert.deepEqual(steps, [7, 9]);
    // Unobserving picks the same (SSE) form: it lists `unobserveproperty`.
    await observed.stop();

    await servient.shutdown();
    console.log("node-wot consumer: all checks passed");
    process.exit(0);
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
