package engine

import (
	"crypto/rand"
	"errors"
	"math/big"
)

// Docker-style generated names: adjective_surname (a smaller list than
// moby's names-generator, same shape).
var (
	nameLeft = []string{
		"admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "blissful",
		"bold", "boring", "brave", "busy", "charming", "clever", "compassionate", "competent",
		"confident", "cool", "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy",
		"eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting",
		"fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny", "gallant",
		"gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
		"hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen",
		"kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying",
		"naughty", "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful",
		"pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "recursing", "relaxed",
		"reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic",
		"strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled",
		"upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful",
		"zealous", "zen",
	}
	nameRight = []string{
		"agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik",
		"bassi", "bell", "benz", "bhabha", "blackwell", "bohr", "booth", "borg",
		"bose", "brahmagupta", "brattain", "brown", "carson", "cerf", "chandrasekhar", "colden",
		"cori", "cray", "curie", "darwin", "davinci", "dijkstra", "dirac", "einstein",
		"elion", "engelbart", "euclid", "euler", "faraday", "fermat", "fermi", "feynman",
		"franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton", "hawking", "heisenberg",
		"hermann", "hodgkin", "hoover", "hopper", "hypatia", "jang", "jennings", "johnson",
		"kalam", "keller", "kepler", "khorana", "kilby", "knuth", "lalande", "lamarr",
		"leakey", "leavitt", "lovelace", "lumiere", "mayer", "mccarthy", "mcclintock", "meitner",
		"mendel", "mestorf", "minsky", "mirzakhani", "morse", "napier", "nash", "newton",
		"nobel", "noether", "pascal", "pasteur", "payne", "perlman", "pike", "poincare",
		"ptolemy", "raman", "ramanujan", "ride", "ritchie", "rosalind", "sammet", "shannon",
		"shockley", "sinoussi", "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing",
		"varahamihira", "wilbur", "wiles", "williams", "wozniak", "wright", "yalow", "yonath",
	}
)

func pick(list []string) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
	if err != nil {
		return "", err
	}
	return list[n.Int64()], nil
}

// generateName returns an unused adjective_surname; the caller holds the
// names lock.
func (e *Engine) generateName() (string, error) {
	for range 20 {
		l, err := pick(nameLeft)
		if err != nil {
			return "", err
		}
		r, err := pick(nameRight)
		if err != nil {
			return "", err
		}
		if name := l + "_" + r; e.nameOwner(name) == "" {
			return name, nil
		}
	}
	return "", errors.New("could not generate a unique container name")
}
