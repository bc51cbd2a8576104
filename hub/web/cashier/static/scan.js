// Camera scan of a card's QR code or barcode where the browser has the BarcodeDetector API
// (Chrome on Android and macOS, for instance): the value fills the field and submits its form.
// Elsewhere the button stays hidden; a scanner gun (a keyboard: the number, then Enter) works
// in the same field everywhere.
document.addEventListener("alpine:init", function () {
  Alpine.data("scanner", function (target) {
    return {
      supported: "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia),
      open: false, error: "", stream: null, timer: null,
      async start() {
        this.error = "";
        try {
          var detector = new window.BarcodeDetector();
          this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
          this.open = true;
          await this.$nextTick();
          var video = this.$refs.video;
          video.srcObject = this.stream;
          await video.play();
          var self = this;
          var tick = async function () {
            if (!self.open) return;
            try {
              var found = await detector.detect(video);
              if (found.length && found[0].rawValue) { self.found(found[0].rawValue); return; }
            } catch (e) { /* a frame that cannot be read yet */ }
            self.timer = setTimeout(tick, 150);
          };
          tick();
        } catch (e) {
          this.stop();
          this.error = "Камера недоступна: " + (e && e.name === "NotAllowedError" ? "нет разрешения." : "не удалось её включить.");
        }
      },
      found(value) {
        this.stop();
        var input = document.getElementById(target);
        if (!input) return;
        input.value = String(value).trim();
        if (input.form) input.form.requestSubmit(); else input.focus();
      },
      stop() {
        this.open = false;
        clearTimeout(this.timer);
        if (this.stream) this.stream.getTracks().forEach(function (t) { t.stop(); });
        this.stream = null;
      },
    };
  });
});
