/// The upload page served at `/`: pick or drop an image, see the top classes. Self-contained (no
/// external scripts, styles or fonts); it calls `GET /v1/models` and `POST /v1/classify`.
enum WebPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>FishOps classifier</title>
        <style>
          body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d2730; }
          h1 { font-size: 1.4rem; margin-bottom: .2rem; }
          #model { color: #5b6770; margin-top: 0; }
          #drop { display: block; border: 2px dashed #8aa0b0; border-radius: 8px; padding: 2rem; text-align: center; cursor: pointer; }
          #drop.over { background: #e8f2f8; border-color: #2a7ab0; }
          #preview { max-width: 100%; max-height: 16rem; display: none; margin: 1rem auto; }
          ol { padding-left: 0; list-style: none; }
          li { margin: .4rem 0; }
          .bar { height: .5rem; background: #2a7ab0; border-radius: 4px; }
          .label { display: flex; justify-content: space-between; }
          #error { color: #b02a2a; }
          #timing { color: #5b6770; font-size: .9rem; }
        </style>
        </head>
        <body>
        <h1>FishOps classifier</h1>
        <p id="model">loading the model…</p>
        <label id="drop">Drop an image here or click to pick one (JPEG or PNG)
          <input id="file" type="file" accept="image/jpeg,image/png" hidden>
        </label>
        <img id="preview" alt="the image being classified">
        <p id="error" role="alert"></p>
        <ol id="results" aria-live="polite"></ol>
        <p id="timing"></p>
        <script>
        const $ = (id) => document.getElementById(id);
        // A server that requires a token is opened as /#token=TOKEN: the fragment never leaves the browser.
        const token = new URLSearchParams(location.hash.slice(1)).get("token");
        const headers = token ? { Authorization: "Bearer " + token } : {};
        fetch("/v1/models", { headers }).then((r) => r.json()).then((m) => {
          $("model").textContent = m.error ? m.error.message : `${m.name} v${m.version} (${m.alias}, ${m.classes.length} classes)`;
        }).catch(() => { $("model").textContent = "the server did not answer"; });

        async function classify(file) {
          $("error").textContent = ""; $("results").replaceChildren(); $("timing").textContent = "classifying…";
          $("preview").src = URL.createObjectURL(file); $("preview").style.display = "block";
          try {
            const response = await fetch("/v1/classify?top=5", { method: "POST", body: file, headers });
            const answer = await response.json();
            if (!response.ok) { throw new Error(answer.error ? answer.error.message : response.statusText); }
            for (const p of answer.top) {
              const item = document.createElement("li");
              const line = document.createElement("div"); line.className = "label";
              const name = document.createElement("span"); name.className = "name"; name.textContent = p.label;
              const percent = document.createElement("span"); percent.textContent = (100 * p.probability).toFixed(1) + "%";
              const bar = document.createElement("div"); bar.className = "bar"; bar.style.width = (100 * p.probability) + "%";
              line.append(name, percent); item.append(line, bar); $("results").append(item);
            }
            $("timing").textContent = `${answer.model.name} v${answer.model.version}, ` +
              (answer.cached ? "from the cache" : `${answer.timings_ms.total.toFixed(1)} ms`);
          } catch (error) {
            $("timing").textContent = ""; $("error").textContent = error.message;
          }
        }

        $("file").addEventListener("change", () => { if ($("file").files.length) classify($("file").files[0]); });
        const drop = $("drop");
        drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
        drop.addEventListener("dragleave", () => drop.classList.remove("over"));
        drop.addEventListener("drop", (e) => {
          e.preventDefault(); drop.classList.remove("over");
          if (e.dataTransfer.files.length) classify(e.dataTransfer.files[0]);
        });
        </script>
        </body>
        </html>
        """#
}
