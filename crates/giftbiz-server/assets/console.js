// The console's one script, progressive enhancement only: every page works without it.
// A catalog file picked on the import page fills its text area (without script, paste it).
const file = document.getElementById("catalog-file");
if (file) {
  file.addEventListener("change", async (e) => {
    const picked = e.target.files[0];
    if (picked) document.getElementById("catalog-text").value = await picked.text();
  });
}
