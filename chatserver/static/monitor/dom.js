// The monitor builds its DOM with the widget's helpers: visitor text always goes in as text.
export * from '/widget/assets/app/dom.js';
