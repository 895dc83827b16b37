// The console builds its DOM with the widget's helpers: one implementation of "text goes in as text".
export * from '/widget/assets/app/dom.js';
