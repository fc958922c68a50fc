// Proof the script was loaded and ran: it writes into the page.
document.getElementById("js-status").textContent = "the script ran";
document.body.dataset.script = "loaded";
