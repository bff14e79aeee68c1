// Consume a labthings Thing with node-wot's MQTT binding: the TD is read over HTTP, then only
// its MQTT forms are kept, so that every operation goes through the broker.
//
// Usage: node nodewot_mqtt.js http://127.0.0.1:PORT/counter/
// Prints one line per operation ("works: …" or "fails: …"), then "done"; exits non-zero if
// any fails (with node-wot 0.8.16, the newest binding-mqtt, all of them work).
"use strict";

const { Servient } = require("@node-wot/core");
const { HttpClientFactory } = require("@node-wot/binding-http");
const { MqttClientFactory } = require("@node-wot/binding-mqtt");

const tdUrl = process.argv[2];
const base = new URL(tdUrl).origin;
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (check) => {
    for (let i = 0; i < 800; i++) {
        if (await check()) return true;
        await wait(25);
    }
    return false;
};
const http = (method, path, body) =>
    fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
const value = async (path) => (await http("GET", path)).json();

(async () => {
    const servient = new Servient();
    servient.addClientFactory(new HttpClientFactory(null));
    servient.addClientFactory(new MqttClientFactory());
    const WoT = await servient.start();
    const td = await WoT.requestThingDescription(tdUrl);
    for (const kind of ["properties", "actions", "events"]) {
        for (const affordance of Object.values(td[kind] || {})) {
            affordance.forms = affordance.forms.filter((f) => f.href.startsWith("mqtt://"));
        }
    }
    td.forms = [];
    const thing = await WoT.consume(td);
    const results = {};
    const attempt = async (what, run) => {
        try {
            const ok = await Promise.race([run(), wait(20000).then(() => false)]);
            results[what] = ok;
            console.log(`${ok ? "works" : "fails"}: ${what}`);
        } catch (e) {
            results[what] = false;
            console.log(`fails: ${what}: ${e.message}`);
        }
    };

    await attempt("readproperty (the retained value)", async () => {
        const count = await (await thing.readProperty("count")).value();
        return count === (await value("/counter/count"));
    });
    await attempt("observeproperty", async () => {
        const seen = [];
        const sub = await thing.observeProperty("count", async (d) => seen.push(await d.value()));
        await wait(200);
        await http("POST", "/counter/increment");
        const target = await value("/counter/count");
        const ok = await until(() => seen.includes(target));
        await sub.stop();
        return ok;
    });
    await attempt("writeproperty", async () => {
        await thing.writeProperty("step", 9);
        return until(async () => (await value("/counter/step")) === 9);
    });
    await attempt("invokeaction", async () => {
        const before = await value("/counter/count");
        await thing.invokeAction("increment");
        return until(async () => (await value("/counter/count")) > before);
    });
    await attempt("subscribeevent", async () => {
        const ticks = [];
        const sub = await thing.subscribeEvent("ticked", async (d) => ticks.push(await d.value()));
        await wait(200);
        await http("POST", "/counter/tick", { n: 3 });
        const ok = await until(() => ticks.length >= 3);
        await sub.stop();
        return ok && ticks.join() === "1,2,3";
    });
    console.log("done");
    await servient.shutdown();
    process.exit(Object.values(results).every((ok) => ok) ? 0 : 1);
})().catch((e) => {
    console.error(e);
    process.exit(2);
});
