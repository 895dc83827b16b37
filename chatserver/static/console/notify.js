// New chats and messages: a count in the tab title and, if the agent turned it on, a short chime.
import { $ } from './dom.js';

const SOUND_KEY = 'chatserver.console.sound';
const baseTitle = document.title;
let audio = null;

export function soundOn() {
  try {
    return localStorage.getItem(SOUND_KEY) === 'on';
  } catch {
    return false;
  }
}

export function setupSound() {
  const button = $('sound');
  const paint = () => button.setAttribute('aria-pressed', String(soundOn()));
  paint();
  button.addEventListener('click', () => {
    try {
      localStorage.setItem(SOUND_KEY, soundOn() ? 'off' : 'on');
    } catch {
      // the choice just is not remembered
    }
    paint();
    if (soundOn()) chime();
  });
}

/** Two soft notes made with Web Audio: no file to fetch, nothing for the CSP to allow. */
export function chime(kind = 'message') {
  if (!soundOn()) return;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    const notes = kind === 'chat' ? [660, 880] : [740];
    notes.forEach((frequency, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = frequency;
      osc.type = 'sine';
      gain.gain.setValueAtTime(0.0001, now + i * 0.14);
      gain.gain.exponentialRampToValueAtTime(0.18, now + i * 0.14 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.14 + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.14);
      osc.stop(now + i * 0.14 + 0.4);
    });
  } catch {
    // audio not available: the title badge still tells
  }
}

export function setTitleCount(count) {
  document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
}
